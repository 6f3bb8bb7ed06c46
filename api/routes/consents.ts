import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { contactIdOf } from '../../store/models';
import { consentOverview } from '../../store/queries';
import { OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { checkCategories, consentQuerySchema, optOutBodySchema } from '../schemas';
import { startOnce } from '../temporal';

export function registerConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/consents', async (request) => {
    const q = parseOr400(consentQuerySchema, request.query, 'query');
    const business = deps.businesses.get(q.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `query is invalid: businessId: unknown business "${q.businessId}"`);
    const contactId = contactIdOf(business.id, q.phone);
    const { contact, consents, events } = await consentOverview(deps.store, business.id, contactId);
    const byCategory = new Map(consents.map((c) => [c.category, c]));
    return {
      businessId: business.id,
      businessName: business.name,
      phone: q.phone,
      contactId,
      known: !!contact,
      messaging: contact?.messaging ?? 'allowed',
      categories: business.categories.map((cat) => {
        const c = byCategory.get(cat.id);
        return { category: cat.id, label: cat.label, status: c?.status ?? 'none', since: c?.since, eventId: c?.lastEventId, journeyId: c?.journeyId, confirmationMessageId: c?.confirmationMessageId };
      }),
      events: events.map((e) => ({ eventId: e._id, category: e.category, type: e.type, at: e.at, proof: e.proof })),
    };
  });

  /** For agents and other systems: keyed by the caller's request id, so a retried call is a no-op. */
  app.post('/optouts', async (request, reply) => {
    const body = parseOr400(optOutBodySchema, request.body, 'body');
    const business = deps.businesses.get(body.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: unknown business "${body.businessId}"`);
    const unknown = checkCategories(business, body.categories ?? []);
    if (unknown.length) throw new HttpError(400, 'invalid_request', `body is invalid: ${unknown.map((u) => `${u.field}: ${u.rule}`).join('; ')}`, unknown);
    const contactId = contactIdOf(business.id, body.phone);
    const origin = `api.${body.requestId ?? randomUUID()}`;
    const input: OptOutInput = {
      origin,
      businessId: business.id,
      contactId,
      phone: body.phone,
      channel: body.source.kind,
      categories: body.categories,
      reason: body.reason,
      source: { kind: body.source.kind, reference: body.source.reference },
      receivedAt: new Date().toISOString(),
      payload: { reason: body.reason, source: body.source, categories: body.categories ?? 'all' },
    };
    const r = await startOnce(deps.client, OPTOUT_WORKFLOW_TYPE, { workflowId: optOutWorkflowId(origin), taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return reply.status(r.started ? 202 : 200).send({ optOutId: optOutWorkflowId(origin), existing: !r.started, categories: body.categories ?? 'all' });
  });
}
