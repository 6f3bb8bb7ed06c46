import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { recordOfflineConsent } from '../../services/consents';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { categoriesField, phoneField } from '../schemas';

/** Clocks of the device that collected the form may run a little ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

export const offlineConsentBodySchema = z.object({
  businessId: z.string().min(1),
  phone: phoneField,
  categories: categoriesField,
  evidence: z.object({
    documentRef: z.string().trim().min(1, 'must name the signed document (scan id, form number, archive path)').max(200),
    signedAt: z.iso
      .datetime({ offset: true, abort: true, message: 'must be an ISO 8601 date-time such as "2025-03-01T14:30:00Z"' })
      .refine((s) => Date.parse(s) <= Date.now() + CLOCK_SKEW_MS, 'must not be in the future'),
    collectedBy: z.string().trim().min(1, 'must name who collected the signature').max(200),
  }),
});

export function registerOfflineConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/consents/offline', async (request, reply) => {
    const body = parseOr400(offlineConsentBodySchema, request.body, 'body');
    const { directConsentId, started } = await recordOfflineConsent(deps, { ...body, actor: keyActor(request) });
    return reply.status(started ? 202 : 200).send({
      directConsentId,
      existing: !started,
      categories: body.categories,
      consentsUrl: `/v1/consents?businessId=${encodeURIComponent(body.businessId)}&phone=${encodeURIComponent(body.phone)}`,
    });
  });
}
