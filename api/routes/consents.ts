import type { FastifyInstance } from 'fastify';
import { requireKnownBusiness, requireKnownCategories } from '../../services/businesses';
import { contactConsents } from '../../services/consents';
import { requestCallerOptOut } from '../../services/caller-optouts';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { consentQuerySchema, optOutBodySchema } from '../schemas';

export function registerConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/consents', async (request) => {
    const q = parseOr400(consentQuerySchema, request.query, 'query');
    return contactConsents(deps, q.businessId, q.phone);
  });

  /** For agents and other systems: keyed by the caller's request id, so a retried call is a no-op and a reused id a 409. */
  app.post('/optouts', async (request, reply) => {
    const body = parseOr400(optOutBodySchema, request.body, 'body');
    const business = requireKnownBusiness(deps.businesses, body.businessId);
    requireKnownCategories(business, body.categories ?? []);
    const r = await requestCallerOptOut(deps, {
      business,
      callerId: request.callerId,
      requestId: body.requestId,
      phone: body.phone,
      categories: body.categories,
      reason: body.reason,
      source: { kind: body.source.kind, reference: body.source.reference },
      actor: keyActor(request, body),
    });
    if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'opt-out accepted before the contact was blocked');
    const accepted = r.started || r.progress === 'queued';
    return reply.status(accepted ? 202 : 200).send({ optOutId: r.optOutId, existing: !accepted, categories: body.categories ?? 'all', progress: r.progress });
  });
}
