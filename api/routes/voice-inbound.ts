import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Business } from '../../domain/business';
import { normalizePhone } from '../../domain/phone';
import { inboundMenuPrompt, inboundMenuTwiml, inboundMenuUrls, sayAndHangUpTwiml } from '../../domain/twiml';
import { consentedDuringCall, recordIvrMenuConsent } from '../../services/consents';
import { askMissedCaller } from '../../services/voice';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { FORM_LIMITS, formRoute } from '../form-body';
import { twilioSignatureGuard } from '../twilio-signature';
import { twiml } from '../twiml';

/** Call statuses that mean nobody at the business took the call. */
const UNANSWERED = new Set(['no-answer', 'busy', 'canceled']);

export const inboundCallSchema = z.object({
  CallSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'must be a Twilio call SID'),
  From: z.string().min(1),
  To: z.string().min(1),
  CallStatus: z.string().optional(),
  Digits: z.string().max(20).optional(),
});

export const menuParamsSchema = z.object({
  b: z.string().min(1),
  cats: z.string().min(1).transform((s) => s.split(',')),
  attempt: z.coerce.number().int().min(1).max(2).default(1),
});

/**
 * Calls to a business's own voice number: an IVR menu where pressing 1 is the contact's consent, and
 * the number's status callback, where a call nobody answered (or that ended without that key) starts
 * an opt-in journey for the caller, at most once per frequency-cap window.
 */
export function registerVoiceInboundRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const callback = { ...formRoute(FORM_LIMITS.providerCallback), preHandler: twilioSignatureGuard(deps.twilioAuthToken, deps.publicBaseUrl) };
  const menuUrls = (business: Business, categories: readonly string[]) => inboundMenuUrls(deps.publicBaseUrl, business.id, categories);
  const businessCalled = (to: string) => {
    const business = deps.businesses.bySenderNumber(to);
    return business && business.senders.voice === to ? business : undefined;
  };
  const cannotContinue = (reply: FastifyReply) => twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));

  app.post('/webhooks/twilio/voice/inbound', callback, async (request, reply) => {
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const business = businessCalled(call.To);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this number is not in service. Goodbye.'));
    const categories = business.categories.map((c) => c.id);
    return twiml(reply, inboundMenuTwiml(business, categories, menuUrls(business, categories), 1));
  });

  app.post('/webhooks/twilio/voice/inbound/menu', callback, async (request, reply) => {
    const p = parseOr400(menuParamsSchema, request.query, 'query');
    const business = deps.businesses.get(p.b);
    if (!business) return cannotContinue(reply);
    return twiml(reply, inboundMenuTwiml(business, p.cats, menuUrls(business, p.cats), p.attempt === 2 ? 2 : 1));
  });

  app.post('/webhooks/twilio/voice/inbound/gather', callback, async (request, reply) => {
    const p = parseOr400(menuParamsSchema, request.query, 'query');
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const business = deps.businesses.get(p.b);
    if (!business) return cannotContinue(reply);
    const digits = (call.Digits ?? '').trim();
    const urls = menuUrls(business, p.cats);
    const attempt = p.attempt === 2 ? 2 : 1;
    if (digits !== '1') {
      return twiml(reply, attempt === 1 ? inboundMenuTwiml(business, p.cats, urls, 2) : sayAndHangUpTwiml(`Thank you for calling ${business.name}. Goodbye.`));
    }
    const phone = normalizePhone(call.From);
    if (!phone.ok) return twiml(reply, sayAndHangUpTwiml(`Sorry, we cannot send WhatsApp messages to the number you are calling from. Goodbye.`));
    const known = new Set(business.categories.map((c) => c.id));
    const categories = p.cats.filter((c) => known.has(c));
    if (categories.length === 0) return cannotContinue(reply);
    await recordIvrMenuConsent(deps, {
      business,
      callSid: call.CallSid,
      phone: phone.e164,
      categories,
      shown: inboundMenuPrompt(business, p.cats),
      evidence: { callSid: call.CallSid, digits, from: call.From, to: call.To, menuAttempt: attempt, twiml: inboundMenuTwiml(business, p.cats, urls, attempt), inbound: { ...(request.body as Record<string, unknown>) } },
    });
    return twiml(reply, sayAndHangUpTwiml(`Thank you. ${business.name} will confirm on WhatsApp. You can reply STOP there at any time. Goodbye.`));
  });

  app.post('/webhooks/twilio/voice/inbound-status', callback, async (request, reply) => {
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const status = call.CallStatus ?? '';
    const business = businessCalled(call.To);
    if (!business) return reply.status(200).send({ outcome: 'ignored', reason: 'To is not the voice number of any configured business' });
    if (!UNANSWERED.has(status) && status !== 'completed') return reply.status(200).send({ outcome: 'ignored', reason: `call status "${status}" is not final` });
    if (status === 'completed' && (await consentedDuringCall(deps, call.CallSid))) return reply.status(200).send({ outcome: 'ignored', reason: 'the caller opted in during the call' });
    const phone = normalizePhone(call.From);
    if (!phone.ok) return reply.status(200).send({ outcome: 'ignored', reason: `From ${phone.rule}` });
    return reply.status(200).send(await askMissedCaller(deps, business, phone.e164, call.CallSid));
  });
}
