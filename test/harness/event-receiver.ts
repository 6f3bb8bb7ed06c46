import type { FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage } from 'node:http';
import { buildApp, type ApiDeps } from '../../api/app';

/** A real HTTP receiver of consent-change events on loopback. */
export interface EventReceiver {
  /** Its base URL; any path reaches `answer`. */
  url: string;
  close(): Promise<void>;
}

/** Starts a receiver; `answer` gets each request's raw body and the request, and says which status to answer. */
export async function startEventReceiver(answer: (body: string, req: IncomingMessage) => number): Promise<EventReceiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.writeHead(answer(Buffer.concat(chunks).toString('utf8'), req)).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}

/** An API of its own on loopback (other delivery settings or keys than the stack's). */
export async function listenApi(deps: ApiDeps): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}
