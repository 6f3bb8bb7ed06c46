import { z } from 'zod';
import { CONSENT_REPORT_SHAPE } from './report-shape';
import type { ResponseDoc } from './types';

/** What every 4xx and 5xx answer looks like (api/errors.ts). */
export const errorSchema = z.object({
  error: z.string().meta({ description: 'a stable code: invalid_request, unauthorized, not_found, conflict, rate_limited, unavailable, internal' }),
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), rule: z.string(), value: z.unknown().optional() })).optional().meta({ description: 'for a 400: each field, the rule it broke and the value given' }),
});

export const journeyStartedSchema = z.object({
  journeyId: z.string(),
  status: z.string().optional(),
  statusUrl: z.string().optional(),
  existing: z.boolean().optional().meta({ description: 'true when a journey for this business and contact was already running' }),
});

export const journeyViewSchema = z.looseObject({
  journeyId: z.string(),
  status: z.enum(['active', 'confirmed', 'declined', 'expired', 'opted_out', 'cancelled']),
  deferred: z
    .object({
      until: z.string(),
      reason: z.enum(['quiet_hours', 'frequency_cap']),
      step: z.number().int(),
      purpose: z.enum(['request', 'reminder']),
    })
    .optional()
    .meta({ description: "present while an opt-in request waits for the business's quiet hours (in the contact's time zone) or its frequency cap: when it may go, and why" }),
});

export const consentsViewSchema = z.looseObject({
  businessId: z.string(),
  categories: z.unknown().meta({ description: 'status per category' }),
  events: z.array(z.looseObject({ type: z.string(), category: z.string(), at: z.string() })).meta({ description: 'every ledger event with its proof' }),
});

export const optOutAcceptedSchema = z.object({
  optOutId: z.string(),
  existing: z.boolean(),
  categories: z.union([z.array(z.string()), z.literal('all')]),
  progress: z.string(),
});

export const campaignSchema = z.looseObject({ campaignId: z.string() });

export const offlineConsentSchema = z.object({ directConsentId: z.string(), existing: z.boolean(), categories: z.array(z.string()), consentsUrl: z.string() });

export const reportLinkSchema = z.object({
  url: z.string().meta({ description: 'the report page with a signed token; anyone holding it can read the report until it expires' }),
  expiresAt: z.string(),
});

export const consentReportSchema = z.looseObject(CONSENT_REPORT_SHAPE);

export const error = (description: string): ResponseDoc => ({ description, schema: errorSchema });

/** The answers most routes share. */
export const ERRORS = {
  400: error('input failed its schema: each field, value and rule is named'),
  401: error('missing or wrong API key'),
  403: error('missing or wrong X-Twilio-Signature'),
  404: error('no such resource'),
  409: error('conflicts with the current state'),
  429: error('a limit is reached; Retry-After says when to try again'),
  503: error('Temporal or the store did not answer; nothing changed; try again'),
} satisfies Record<number, ResponseDoc>;
