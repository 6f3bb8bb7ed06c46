import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { contactIdOf } from '../../store/models';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { categoriesField, phoneField } from '../schemas';
import { startJourney } from './journeys';
import { inServiceWindow } from '../../domain/whatsapp-window';

/** WhatsApp only lets a business write free-form (session) messages within 24 hours of the contact's last message. */

const agentRef = z.string().regex(/^[A-Za-z0-9_.:@#-]{1,100}$/, 'must be 1-100 letters, digits, _ . : @ # or -');

export const agentOptinBodySchema = z.object({
  businessId: z.string().min(1),
  agentId: agentRef,
  ticketId: agentRef,
  phone: phoneField,
  categories: categoriesField,
});

export function registerAgentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /**
   * After resolving a ticket in WhatsApp, the agent asks in the same chat. Only a session message may
   * do that, so the contact must have written in the last 24 hours; otherwise a template journey is needed.
   */
  app.post('/agent/optin', async (request, reply) => {
    const body = parseOr400(agentOptinBodySchema, request.body, 'body');
    const business = deps.businesses.get(body.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: unknown business "${body.businessId}"`, [{ field: 'businessId', rule: 'must be a configured business', value: body.businessId }]);

    const contact = await deps.store.contacts.findById(contactIdOf(business.id, body.phone)).lean();
    const lastInbound = contact?.lastWhatsappInboundAt ? new Date(contact.lastWhatsappInboundAt).getTime() : undefined;
    if (lastInbound === undefined || !inServiceWindow(contact?.lastWhatsappInboundAt)) {
      throw new HttpError(
        409,
        'outside_service_window',
        'cannot ask in the chat: the contact has not written on WhatsApp in the last 24 hours; start a template journey with POST /v1/journeys instead',
        lastInbound === undefined ? undefined : { lastWhatsappInboundAt: new Date(lastInbound).toISOString() },
      );
    }

    const started = await startJourney(deps, {
      businessId: business.id,
      contact: { phone: body.phone },
      categories: body.categories,
      plan: [{ channel: 'whatsapp', waitFor: '24h' }],
      source: { kind: 'agent', reference: `${body.agentId}/${body.ticketId}` },
    });
    return reply.status(started.existing ? 200 : 202).send(started);
  });
}
