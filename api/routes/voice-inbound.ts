import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { categoryLabels, type Business } from '../../domain/business';
import { normalizePhone } from '../../domain/phone';
import { sayAndHangUpTwiml } from '../../domain/twiml';
import { contactIdOf } from '../../store/models';
import { directConsentWorkflowId, type DirectConsentInput } from '../../workflows/direct/contract';
import type { ApiDeps } from '../app';
import { startDirectConsent } from '../direct-consent';
import { HttpError, parseOr400 } from '../errors';
import { twilioSignatureGuard } from '../twilio-signature';
import { startJourney } from './journeys';

/** Call statuses that mean nobody at the business took the call. */
const UNANSWERED = new Set(['no-answer', 'busy', 'canceled']);

const inboundCallSchema = z.object({
  CallSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'must be a Twilio call SID'),
  From: z.string().min(1),
  To: z.string().min(1),
  CallStatus: z.string().optional(),
  Digits: z.string().max(20).optional(),
});

const menuParamsSchema = z.object({
  b: z.string().min(1),
  cats: z.string().min(1).transform((s) => s.split(',')),
  attempt: z.coerce.number().int().min(1).max(2).default(1),
});

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function spokenList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Words of the inbound menu; the gather handler rebuilds them from the signed URL to keep as proof. */
export function inboundMenuPrompt(business: Business, categories: readonly string[]): string {
  const what = spokenList(categoryLabels(business, categories));
  return `Hello, you have reached ${business.name}. Press 1 to receive WhatsApp messages from ${business.name} about ${what}. You can reply STOP on WhatsApp at any time to opt out.`;
}

export interface InboundMenuUrls {
  /** Where the key pressed at this attempt goes. */
  gather: (attempt: 1 | 2) => string;
  /** The menu again, for a caller who pressed nothing or another key. */
  menu: (attempt: 1 | 2) => string;
}

/** The menu is kept pure so the webhook serves, and the proof records, the same document. */
export function inboundMenuTwiml(business: Business, categories: readonly string[], urls: InboundMenuUrls, attempt: 1 | 2): string {
  const after = attempt === 1 ? `<Redirect method="POST">${xmlEscape(urls.menu(2))}</Redirect>` : `<Say>${xmlEscape(`Thank you for calling ${business.name}. Goodbye.`)}</Say><Hangup/>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" timeout="6" action="${xmlEscape(urls.gather(attempt))}" method="POST"><Say>${xmlEscape(inboundMenuPrompt(business, categories))}</Say></Gather>${after}</Response>`;
}

function twiml(reply: FastifyReply, xml: string) {
  return reply.status(200).header('content-type', 'text/xml; charset=utf-8').send(xml);
}

/**
 * Calls to a business's own voice number: an IVR menu where pressing 1 is the contact's consent, and
 * the number's status callback, where a call nobody answered (or that ended without that key) starts
 * an opt-in journey for the caller, at most once per frequency-cap window.
 */
export function registerVoiceInboundRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const guard = twilioSignatureGuard(deps.twilioAuthToken, deps.publicBaseUrl);
  const base = deps.publicBaseUrl.replace(/\/+$/, '');
  const menuUrls = (business: Business, categories: readonly string[]): InboundMenuUrls => {
    const q = `b=${encodeURIComponent(business.id)}&cats=${encodeURIComponent(categories.join(','))}`;
    return {
      gather: (attempt) => `${base}/webhooks/twilio/voice/inbound/gather?${q}&attempt=${attempt}`,
      menu: (attempt) => `${base}/webhooks/twilio/voice/inbound/menu?${q}&attempt=${attempt}`,
    };
  };
  const businessCalled = (to: string) => {
    const business = deps.businesses.bySenderNumber(to);
    return business && business.senders.voice === to ? business : undefined;
  };

  app.post('/webhooks/twilio/voice/inbound', { preHandler: guard }, async (request, reply) => {
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const business = businessCalled(call.To);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this number is not in service. Goodbye.'));
    const categories = business.categories.map((c) => c.id);
    return twiml(reply, inboundMenuTwiml(business, categories, menuUrls(business, categories), 1));
  });

  app.post('/webhooks/twilio/voice/inbound/menu', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(menuParamsSchema, request.query, 'query');
    const business = deps.businesses.get(p.b);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));
    return twiml(reply, inboundMenuTwiml(business, p.cats, menuUrls(business, p.cats), p.attempt === 2 ? 2 : 1));
  });

  app.post('/webhooks/twilio/voice/inbound/gather', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(menuParamsSchema, request.query, 'query');
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const business = deps.businesses.get(p.b);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));
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
    if (categories.length === 0) return twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));
    const contactId = contactIdOf(business.id, phone.e164);
    const origin = `ivr.${call.CallSid}`;
    const receivedAt = new Date().toISOString();
    const input: DirectConsentInput = {
      origin,
      businessId: business.id,
      contactId,
      phone: phone.e164,
      categories,
      method: 'ivr_keypress',
      channel: 'ivr',
      consentedAt: receivedAt,
      receivedAt,
      shown: inboundMenuPrompt(business, p.cats),
      evidence: {
        callSid: call.CallSid,
        digits,
        from: call.From,
        to: call.To,
        menuAttempt: attempt,
        twiml: inboundMenuTwiml(business, p.cats, urls, attempt),
        inbound: { ...(request.body as Record<string, unknown>) },
      },
      source: { kind: 'inbound_ivr', reference: call.CallSid },
    };
    await startDirectConsent(deps, input);
    return twiml(reply, sayAndHangUpTwiml(`Thank you. ${business.name} will confirm on WhatsApp. You can reply STOP there at any time. Goodbye.`));
  });

  app.post('/webhooks/twilio/voice/inbound-status', { preHandler: guard }, async (request, reply) => {
    const call = parseOr400(inboundCallSchema, request.body, 'body');
    const status = call.CallStatus ?? '';
    const business = businessCalled(call.To);
    if (!business) return reply.status(200).send({ outcome: 'ignored', reason: 'To is not the voice number of any configured business' });
    if (!UNANSWERED.has(status) && status !== 'completed') return reply.status(200).send({ outcome: 'ignored', reason: `call status "${status}" is not final` });
    if (status === 'completed') {
      try {
        await deps.client.workflow.getHandle(directConsentWorkflowId(`ivr.${call.CallSid}`)).describe();
        return reply.status(200).send({ outcome: 'ignored', reason: 'the caller opted in during the call' });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    const phone = normalizePhone(call.From);
    if (!phone.ok) return reply.status(200).send({ outcome: 'ignored', reason: `From ${phone.rule}` });

    const contact = await deps.store.contacts.findById(contactIdOf(business.id, phone.e164)).lean();
    const capMs = business.frequencyCapDays * 86_400_000;
    if (contact?.lastRequestAt && Date.now() - new Date(contact.lastRequestAt).getTime() < capMs) {
      return reply.status(200).send({ outcome: 'frequency_capped', reason: `the caller was asked less than ${business.frequencyCapDays} days ago` });
    }
    // A caller who already writes to us on WhatsApp is asked there; anyone else by SMS, which every phone receives.
    const channel = contact?.lastWhatsappInboundAt ? 'whatsapp' : 'sms';
    try {
      const started = await startJourney(deps, {
        businessId: business.id,
        contact: { phone: phone.e164 },
        categories: business.categories.map((c) => c.id),
        plan: [{ channel, waitFor: '24h' }],
        source: { kind: 'missed_call', reference: call.CallSid },
      });
      return reply.status(200).send({ outcome: started.existing ? 'journey_running' : 'journey_started', journeyId: started.journeyId });
    } catch (err) {
      if (err instanceof HttpError && err.statusCode === 409) return reply.status(200).send({ outcome: 'ignored', reason: err.message });
      throw err;
    }
  });
}
