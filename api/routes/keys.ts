import type { FastifyInstance } from 'fastify';

export function registerKeyRoutes(app: FastifyInstance): void {
  /** What the presented key may do: for the CLI and for a caller checking its configuration. */
  app.get('/keys/me', async (request) => {
    const { keyId, role, businesses } = request.caller;
    return { keyId, role, businesses };
  });
}
