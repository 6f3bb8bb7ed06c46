import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { contactIdOf } from '../../store/models';
import type { DirectConsentInput } from '../../workflows/direct/contract';
import type { ApiDeps } from '../app';
import { startDirectConsent } from '../direct-consent';
import { HttpError, parseOr400 } from '../errors';
import { categoriesField, checkCategories, phoneField } from '../schemas';

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

/** One document is one consent: the workflow id is keyed by it, so posting it again records nothing new. */
export function offlineOrigin(businessId: string, documentRef: string): string {
  return `offline.${createHash('sha256').update(`${businessId}\n${documentRef}`).digest('hex').slice(0, 32)}`;
}

export function registerOfflineConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/consents/offline', async (request, reply) => {
    const body = parseOr400(offlineConsentBodySchema, request.body, 'body');
    const business = deps.businesses.get(body.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: unknown business "${body.businessId}"`, [{ field: 'businessId', rule: 'must be a configured business', value: body.businessId }]);
    const unknown = checkCategories(business, body.categories);
    if (unknown.length) throw new HttpError(400, 'invalid_request', `body is invalid: ${unknown.map((u) => `${u.field}: ${u.rule}`).join('; ')}`, unknown);

    const contactId = contactIdOf(business.id, body.phone);
    const origin = offlineOrigin(business.id, body.evidence.documentRef);
    const input: DirectConsentInput = {
      origin,
      businessId: business.id,
      contactId,
      phone: body.phone,
      categories: body.categories,
      method: 'offline_document',
      channel: 'in_person',
      consentedAt: new Date(body.evidence.signedAt).toISOString(),
      receivedAt: new Date().toISOString(),
      evidence: { ...body.evidence },
      source: { kind: 'offline', reference: body.evidence.documentRef },
    };
    const { directConsentId, started } = await startDirectConsent(deps, input);
    return reply.status(started ? 202 : 200).send({
      directConsentId,
      existing: !started,
      categories: body.categories,
      consentsUrl: `/v1/consents?businessId=${encodeURIComponent(business.id)}&phone=${encodeURIComponent(body.phone)}`,
    });
  });
}
