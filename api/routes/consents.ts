import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { requireKnownBusiness, requireKnownCategories } from '../../services/businesses';
import { contactConsents } from '../../services/consents';
import { requestOptOut } from '../../services/optouts';
import { contactIdOf } from '../../store/models';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { consentQuerySchema, optOutBodySchema } from '../schemas';

export function registerConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/consents', async (request) => {
    const q = parseOr400(consentQuerySchema, request.query, 'query');
    return contactConsents(deps, q.businessId, q.phone);
  });

  /** For agents and other systems: keyed by the caller's request id, so a retried call is a no-op. */
  app.post('/optouts', async (request, reply) => {
    const body = parseOr400(optOutBodySchema, request.body, 'body');
    const business = requireKnownBusiness(deps.businesses, body.businessId);
    requireKnownCategories(business, body.categories ?? []);
    const r = await requestOptOut(deps, {
      origin: `api.${body.requestId ?? randomUUID()}`,
      businessId: business.id,
      contactId: contactIdOf(business.id, body.phone),
      phone: body.phone,
      channel: body.source.kind,
      categories: body.categories,
      reason: body.reason,
      source: { kind: body.source.kind, reference: body.source.reference },
      receivedAt: new Date().toISOString(),
      payload: { reason: body.reason, source: body.source, categories: body.categories ?? 'all' },
      // An agent relaying what the contact said in a chat confirms there; other sources have no thread to answer in.
      confirmOn: body.source.kind === 'sms' || body.source.kind === 'whatsapp' ? body.source.kind : undefined,
    });
    if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'opt-out accepted before the contact was blocked');
    const accepted = r.started || r.progress === 'queued';
    return reply.status(accepted ? 202 : 200).send({ optOutId: r.optOutId, existing: !accepted, categories: body.categories ?? 'all', progress: r.progress });
  });
}
