import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { askInChat } from '../../services/optin-requests';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { agentRefField, categoriesField, phoneField } from '../schemas';

export const agentOptinBodySchema = z.object({
  businessId: z.string().min(1),
  agentId: agentRefField,
  ticketId: agentRefField,
  phone: phoneField,
  categories: categoriesField,
});

export function registerAgentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** After resolving a ticket in WhatsApp, the agent asks in the same chat (only within the 24-hour window). */
  app.post('/agent/optin', async (request, reply) => {
    const body = parseOr400(agentOptinBodySchema, request.body, 'body');
    const started = await askInChat(deps, { ...body, actor: keyActor(request) });
    return reply.status(started.existing ? 200 : 202).send(started);
  });
}
