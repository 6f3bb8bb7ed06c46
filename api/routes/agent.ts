import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { askInChat } from '../../services/optin-requests';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { categoriesField, phoneField } from '../schemas';

const agentRef = z.string().regex(/^[A-Za-z0-9_.:@#-]{1,100}$/, 'must be 1-100 letters, digits, _ . : @ # or -');

export const agentOptinBodySchema = z.object({
  businessId: z.string().min(1),
  agentId: agentRef,
  ticketId: agentRef,
  phone: phoneField,
  categories: categoriesField,
});

export function registerAgentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** After resolving a ticket in WhatsApp, the agent asks in the same chat (only within the 24-hour window). */
  app.post('/agent/optin', async (request, reply) => {
    const body = parseOr400(agentOptinBodySchema, request.body, 'body');
    const started = await askInChat(deps, body);
    return reply.status(started.existing ? 200 : 202).send(started);
  });
}
