import { z } from 'zod';
import { channelSchema, idPattern } from '../domain/business';
import { parseDuration } from '../domain/duration';
import { normalizePhone } from '../domain/phone';
import type { PlanStep } from '../domain/plan';
import { OPTOUT_CHANNELS } from '../workflows/optout/contract';

const MAX_WAIT_MS = 30 * 86_400_000;

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration such as "90s", "15m", "24h" or "3d" (got "${s}")` });
    return z.NEVER;
  }
  if (ms < 1000 || ms > MAX_WAIT_MS) {
    ctx.addIssue({ code: 'custom', message: 'must be between 1s and 30d' });
    return z.NEVER;
  }
  return ms;
});

export const phoneField = z.string().transform((s, ctx) => {
  const r = normalizePhone(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.rule });
    return z.NEVER;
  }
  return r.e164;
});

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as "Europe/Paris"');

export const contactSchema = z.object({
  phone: phoneField,
  email: z.email('must be an e-mail address').max(254).optional(),
  locale: z.string().regex(/^[a-z]{2}([-_][A-Za-z]{2})?$/, 'must be a locale such as "en" or "pt-BR"').optional(),
  timezone: timezone.optional(),
  name: z.string().min(1).max(120).optional(),
});

/** A plan step as callers write it ("waitFor": "24h"), read into the journey's own form (milliseconds). */
export const planStepSchema = z
  .object({
    channel: channelSchema,
    waitFor: duration,
    remindAfter: z.array(duration).max(5, 'at most 5 reminders per step').optional(),
  })
  .superRefine((s, ctx) => {
    (s.remindAfter ?? []).forEach((r, i) => {
      if (r >= s.waitFor) ctx.addIssue({ code: 'custom', path: ['remindAfter', i], message: 'must be shorter than waitFor' });
    });
  })
  .transform((s): PlanStep => ({ channel: s.channel, waitForMs: s.waitFor, remindAfterMs: s.remindAfter ?? [] }));

export const planSchema = z.array(planStepSchema).min(1).max(6);

export const categoriesField = z
  .array(z.string().min(1))
  .min(1, 'must name at least one category')
  .max(20)
  .refine((a) => new Set(a).size === a.length, 'must not repeat a category');

export const startJourneyBodySchema = z
  .object({
    businessId: z.string().min(1),
    contact: contactSchema,
    categories: categoriesField,
    plan: planSchema.optional(),
    source: z.object({ kind: z.string().min(1).max(40), reference: z.string().max(200).optional() }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.plan?.some((s) => s.channel === 'email') && !b.contact.email) {
      ctx.addIssue({ code: 'custom', path: ['contact', 'email'], message: 'is required when the plan uses the email channel' });
    }
  });
export type StartJourneyBody = z.infer<typeof startJourneyBodySchema>;

export const consentQuerySchema = z.object({ businessId: z.string().min(1), phone: phoneField });

/** An agent's or a ticket's id in the caller's own system, recorded in the ledger as part of the actor. */
export const agentRefField = z.string().regex(/^[A-Za-z0-9_.:@#-]{1,100}$/, 'must be 1-100 letters, digits, _ . : @ # or -');

export const optOutBodySchema = z.object({
  businessId: z.string().min(1),
  phone: phoneField,
  categories: categoriesField.optional(),
  reason: z.string().min(1).max(500),
  source: z.object({ kind: z.enum(OPTOUT_CHANNELS), reference: z.string().max(200).optional() }),
  requestId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits, _ . : or -').optional(),
  agentId: agentRefField.optional(),
  ticketId: agentRefField.optional(),
});

export const inboundMessageSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'must be a Twilio message SID'),
  AccountSid: z.string().min(1),
  From: z.string().min(1),
  To: z.string().min(1),
  Body: z.string().max(2000).optional(),
  ButtonPayload: z.string().max(256).optional(),
  ButtonText: z.string().max(256).optional(),
  ProfileName: z.string().optional(),
  WaId: z.string().optional(),
  MessageType: z.string().optional(),
  NumMedia: z.string().optional(),
});

export const statusCallbackSchema = z.object({
  MessageSid: z.string().optional(),
  SmsSid: z.string().optional(),
  MessageStatus: z.string().min(1),
  ErrorCode: z.string().regex(/^\d*$/).optional(),
  To: z.string().optional(),
  From: z.string().optional(),
});

/*
 * The ids we put in the callback URLs we give the provider. Temporal answers an id it cannot read with
 * an error rather than "no such run", so a mangled URL is refused here, naming the part.
 */
const businessIdField = z.string().regex(idPattern, 'must be a business id (lower-case letters, digits, _ or -)');
const contactIdField = z.string().regex(/^c_[0-9a-f]{24}$/, 'must be a contact id ("c_" and 24 hex digits)');
const journeyWorkflowIdField = z.string().regex(/^journey\.[a-z0-9][a-z0-9_-]{0,62}\.c_[0-9a-f]{24}$/, 'must be a journey workflow id ("journey.<business>.<contact id>")');
const runIdField = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a run id (a UUID)');

/** The query of a message status callback: which journey run sent it; messages sent outside a journey have none. */
export const statusCallbackQuerySchema = z.object({
  wf: journeyWorkflowIdField.optional(),
  run: runIdField.optional(),
  b: businessIdField.optional(),
  c: contactIdField.optional(),
  /** The send's outbox key: a report settles a send whose outcome we did not hear. */
  o: z.string().min(1).max(300).optional(),
});

export const voiceParamsSchema = z.object({
  wf: journeyWorkflowIdField,
  run: runIdField,
  step: z.coerce.number().int().min(0),
  b: businessIdField,
  cats: z.string().min(1).transform((s) => s.split(',')),
  attempt: z.coerce.number().int().min(1).max(2).optional(),
});
