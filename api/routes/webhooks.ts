import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyButtonPayload, classifyInbound } from '../../domain/keywords';
import { normalizePhone } from '../../domain/phone';
import { ivrWebhookUrls, optinCallTwiml, sayAndHangUpTwiml } from '../../domain/twiml';
import { contactIdOf } from '../../store/models';
import { INBOUND_WORKFLOW_TYPE, inboundWorkflowId, type InboundMessageInput } from '../../workflows/inbound/contract';
import { contactAnsweredSignal, ivrNoAnswerSignal, providerStatusSignal, type ContactAnswer } from '../../workflows/journey/contract';
import type { OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { inboundMessageSchema, statusCallbackSchema, voiceParamsSchema } from '../schemas';
import { signalIfRunning, startOnce } from '../temporal';
import { requestOptOut } from './consents';
import { twilioSignatureGuard } from '../twilio-signature';

/** Twilio error codes that mean the recipient unsubscribed at the carrier. */
const CARRIER_UNSUBSCRIBED = new Set([21610]);

function twiml(reply: FastifyReply, xml: string) {
  return reply.status(200).header('content-type', 'text/xml; charset=utf-8').send(xml);
}

/** The opt-out is durable either way; a late block is worth a line in the log. */
/** Twilio message statuses on the way to a final one (delivered, read, undelivered, failed). */
export const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set(['accepted', 'scheduled', 'queued', 'sending', 'sent']);

function warnIfPending(request: FastifyRequest, r: Awaited<ReturnType<typeof requestOptOut>>): void {
  if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'opt-out acknowledged before the contact was blocked');
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * Every webhook answers only after Temporal durably holds the event (a workflow started or signalled),
 * so nothing the contact said is lost while MongoDB or every worker is down. An opt-out answers once
 * the contact is blocked as well (requestOptOut), or after a bounded wait when the store is slow.
 */
export function registerWebhookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const guard = twilioSignatureGuard(deps.twilioAuthToken, deps.publicBaseUrl);

  app.post('/webhooks/twilio/messaging', { preHandler: guard }, async (request, reply) => {
    const msg = parseOr400(inboundMessageSchema, request.body, 'body');
    const business = deps.businesses.bySenderNumber(msg.To);
    if (!business) {
      request.log.warn({ messageSid: msg.MessageSid }, 'inbound message to a number no business owns');
      return reply.status(404).send({ error: 'not_found', message: 'To is not a sender number of any configured business' });
    }
    const phone = normalizePhone(msg.From);
    if (!phone.ok) return reply.status(400).send({ error: 'invalid_request', message: `body is invalid: From: ${phone.rule}` });
    const channel = msg.From.startsWith('whatsapp:') ? 'whatsapp' : 'sms';
    const contactId = contactIdOf(business.id, phone.e164);
    const classification = msg.ButtonPayload
      ? { intent: classifyButtonPayload(msg.ButtonPayload) }
      : classifyInbound(msg.Body ?? '', business.keywords);
    const receivedAt = new Date().toISOString();
    const payload = { ...(request.body as Record<string, unknown>) };

    if (classification.intent === 'opt_out') {
      const origin = `${channel}.${msg.MessageSid}`;
      const input: OptOutInput = {
        origin,
        businessId: business.id,
        contactId,
        phone: phone.e164,
        channel,
        reason: msg.ButtonPayload ? 'stop button' : 'opt-out keyword',
        source: { kind: msg.ButtonPayload ? 'whatsapp_button' : 'keyword', reference: msg.MessageSid },
        receivedAt,
        text: msg.Body ?? msg.ButtonText,
        payload,
        confirmOn: channel,
      };
      warnIfPending(request, await requestOptOut(deps, input));
    } else {
      const input: InboundMessageInput = {
        messageSid: msg.MessageSid,
        businessId: business.id,
        contactId,
        phone: phone.e164,
        channel,
        text: msg.Body,
        buttonPayload: msg.ButtonPayload,
        intent: classification.intent,
        receivedAt,
        payload,
      };
      await startOnce(deps.client, INBOUND_WORKFLOW_TYPE, { workflowId: inboundWorkflowId(msg.MessageSid), taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    }
    return twiml(reply, EMPTY_TWIML);
  });

  app.post('/webhooks/twilio/status', { preHandler: guard }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const body = parseOr400(statusCallbackSchema, request.body, 'body');
    const providerId = body.MessageSid ?? body.SmsSid ?? '';
    const errorCode = body.ErrorCode ? Number(body.ErrorCode) : undefined;
    const receivedAt = new Date().toISOString();
    // Only what tells the journey something: a message in progress (queued, sent…) changes nothing, and
    // every signal is a workflow task on a busy server. Unknown statuses are passed on, to be safe.
    if (q.wf && !IN_PROGRESS_STATUSES.has(body.MessageStatus)) {
      await signalIfRunning(deps.client, q.wf, q.run, providerStatusSignal.name, { providerId, status: body.MessageStatus, errorCode, receivedAt });
    }
    const business = q.b ? deps.businesses.get(q.b) : undefined;
    if (errorCode !== undefined && CARRIER_UNSUBSCRIBED.has(errorCode) && business && q.c && body.To) {
      const phone = normalizePhone(body.To);
      if (phone.ok) {
        const origin = `provider.${providerId}`;
        const input: OptOutInput = {
          origin,
          businessId: business.id,
          contactId: q.c,
          phone: phone.e164,
          channel: 'provider',
          reason: `carrier reports the recipient unsubscribed (error ${errorCode})`,
          source: { kind: 'provider', reference: providerId },
          receivedAt,
          payload: { ...(request.body as Record<string, unknown>) },
        };
        warnIfPending(request, await requestOptOut(deps, input));
      }
    }
    return reply.status(204).send();
  });

  app.post('/webhooks/twilio/voice/optin', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const business = deps.businesses.get(p.b);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));
    const urls = ivrWebhookUrls(deps.publicBaseUrl, { wf: p.wf, run: p.run, step: p.step, b: p.b, cats: p.cats });
    const attempt = p.attempt === 2 ? 2 : 1;
    return twiml(reply, optinCallTwiml(business, p.cats, attempt, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer }));
  });

  app.post('/webhooks/twilio/voice/gather', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const body = request.body as Record<string, string>;
    const business = deps.businesses.get(p.b);
    if (!business) return twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));
    const digits = (body.Digits ?? '').trim();
    const callSid = body.CallSid ?? '';
    const receivedAt = new Date().toISOString();
    if (digits === '9') {
      const phone = normalizePhone(body.To ?? body.Called ?? '');
      if (phone.ok) {
        const origin = `ivr.${callSid}`;
        const input: OptOutInput = {
          origin,
          businessId: business.id,
          contactId: contactIdOf(business.id, phone.e164),
          phone: phone.e164,
          channel: 'ivr',
          reason: 'pressed 9 in the opt-in call',
          source: { kind: 'ivr_keypress', reference: callSid },
          receivedAt,
          payload: { ...body },
        };
        warnIfPending(request, await requestOptOut(deps, input));
      }
      return twiml(reply, sayAndHangUpTwiml(`You will receive no more messages from ${business.name}. To opt back in, reply START to any of our messages. Goodbye.`));
    }
    if (digits !== '1' && digits !== '2') {
      const urls = ivrWebhookUrls(deps.publicBaseUrl, { wf: p.wf, run: p.run, step: p.step, b: p.b, cats: p.cats });
      return twiml(reply, optinCallTwiml(business, p.cats, 2, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer }));
    }
    const answer: ContactAnswer = {
      decision: digits === '1' ? 'confirm' : 'decline',
      channel: 'ivr',
      method: 'ivr_keypress',
      receivedAt,
      text: digits,
      providerId: callSid,
      payload: { ...body },
    };
    const delivered = await signalIfRunning(deps.client, p.wf, p.run, contactAnsweredSignal.name, answer);
    if (!delivered) return twiml(reply, sayAndHangUpTwiml('This request has already ended. Goodbye.'));
    return twiml(
      reply,
      sayAndHangUpTwiml(digits === '1' ? `Thank you. ${business.name} will confirm on WhatsApp. You can reply STOP there at any time.` : `Thank you. ${business.name} will not send you WhatsApp messages. Goodbye.`),
    );
  });

  app.post('/webhooks/twilio/voice/no-answer', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const body = request.body as Record<string, string>;
    await signalIfRunning(deps.client, p.wf, p.run, ivrNoAnswerSignal.name, { callSid: body.CallSid ?? '', at: new Date().toISOString() });
    return twiml(reply, sayAndHangUpTwiml('We did not receive an answer. Goodbye.'));
  });

  app.post('/webhooks/twilio/voice/status', { preHandler: guard }, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const body = request.body as Record<string, string>;
    const status = body.CallStatus ?? '';
    if (status && status !== 'completed') {
      await signalIfRunning(deps.client, p.wf, p.run, providerStatusSignal.name, { providerId: body.CallSid ?? '', status, receivedAt: new Date().toISOString() });
    }
    return reply.status(204).send();
  });
}
