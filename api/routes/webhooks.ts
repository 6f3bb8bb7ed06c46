import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizePhone } from '../../domain/phone';
import { ivrWebhookUrls, optinCallTwiml, sayAndHangUpTwiml } from '../../domain/twiml';
import { receiveMessage, receiveMessageStatus } from '../../services/messaging';
import type { OptOutOutcome } from '../../services/optouts';
import { receiveCallStatus, receiveKeyPress, receiveNoAnswer } from '../../services/voice';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { FORM_LIMITS, formRoute } from '../form-body';
import { inboundMessageSchema, statusCallbackQuerySchema, statusCallbackSchema, voiceParamsSchema } from '../schemas';
import { twilioSignatureGuard } from '../twilio-signature';
import { twiml } from '../twiml';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** The opt-out is durable either way; a late block is worth a line in the log. */
function warnIfPending(request: FastifyRequest, optOut: OptOutOutcome | undefined): void {
  if (optOut?.progress === 'pending') request.log.warn({ optOutId: optOut.optOutId, detail: optOut.detail }, 'opt-out acknowledged before the contact was blocked');
}

const formOf = (request: FastifyRequest) => ({ ...(request.body as Record<string, unknown>) });

/**
 * Every webhook answers only after the event is durable (a workflow started or signalled, or an
 * opt-out kept in the store), so nothing the contact said is lost while MongoDB or every worker is down.
 */
export function registerWebhookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const guard = twilioSignatureGuard(deps.twilioAuthToken, deps.publicBaseUrl);
  const message = { ...formRoute(FORM_LIMITS.optOutCarrier), preHandler: guard };
  const callback = { ...formRoute(FORM_LIMITS.providerCallback), preHandler: guard };
  const cannotContinue = (reply: FastifyReply) => twiml(reply, sayAndHangUpTwiml('Sorry, this call cannot continue. Goodbye.'));

  app.post('/webhooks/twilio/messaging', message, async (request, reply) => {
    const msg = parseOr400(inboundMessageSchema, request.body, 'body');
    const business = deps.businesses.bySenderNumber(msg.To);
    if (!business) {
      request.log.warn({ messageSid: msg.MessageSid }, 'inbound message to a number no business owns');
      return reply.status(404).send({ error: 'not_found', message: 'To is not a sender number of any configured business' });
    }
    const phone = normalizePhone(msg.From);
    if (!phone.ok) return reply.status(400).send({ error: 'invalid_request', message: `body is invalid: From: ${phone.rule}` });
    const channel = msg.From.startsWith('whatsapp:') ? 'whatsapp' : 'sms';
    const r = await receiveMessage(deps, { business, messageSid: msg.MessageSid, phone: phone.e164, channel, body: msg.Body, buttonPayload: msg.ButtonPayload, buttonText: msg.ButtonText, payload: formOf(request) }, request.log);
    warnIfPending(request, r.optOut);
    return twiml(reply, EMPTY_TWIML);
  });

  app.post('/webhooks/twilio/status', callback, async (request, reply) => {
    const q = parseOr400(statusCallbackQuerySchema, request.query, 'query');
    const body = parseOr400(statusCallbackSchema, request.body, 'body');
    const r = await receiveMessageStatus(deps, {
      workflowId: q.wf,
      runId: q.run,
      business: q.b ? deps.businesses.get(q.b) : undefined,
      contactId: q.c,
      outboxKey: q.o,
      providerId: body.MessageSid ?? body.SmsSid ?? '',
      status: body.MessageStatus,
      errorCode: body.ErrorCode ? Number(body.ErrorCode) : undefined,
      to: body.To,
      payload: formOf(request),
    });
    warnIfPending(request, r.optOut);
    return reply.status(204).send();
  });

  app.post('/webhooks/twilio/voice/optin', callback, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const business = deps.businesses.get(p.b);
    if (!business) return cannotContinue(reply);
    const urls = ivrWebhookUrls(deps.publicBaseUrl, p);
    return twiml(reply, optinCallTwiml(business, p.cats, p.attempt === 2 ? 2 : 1, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer }));
  });

  app.post('/webhooks/twilio/voice/gather', callback, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const body = request.body as Record<string, string>;
    const business = deps.businesses.get(p.b);
    if (!business) return cannotContinue(reply);
    const phone = normalizePhone(body.To ?? body.Called ?? '');
    const r = await receiveKeyPress(deps, {
      workflowId: p.wf,
      runId: p.run,
      business,
      callSid: body.CallSid ?? '',
      digits: (body.Digits ?? '').trim(),
      phone: phone.ok ? phone.e164 : undefined,
      payload: { ...body },
    });
    switch (r.kind) {
      case 'opted_out':
        warnIfPending(request, r.optOut);
        return twiml(reply, sayAndHangUpTwiml(`You will receive no more messages from ${business.name}. To opt back in, reply START to any of our messages. Goodbye.`));
      case 'unknown_key': {
        const urls = ivrWebhookUrls(deps.publicBaseUrl, p);
        return twiml(reply, optinCallTwiml(business, p.cats, 2, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer }));
      }
      case 'ended':
        return twiml(reply, sayAndHangUpTwiml('This request has already ended. Goodbye.'));
      case 'answered':
        return twiml(
          reply,
          sayAndHangUpTwiml(r.decision === 'confirm' ? `Thank you. ${business.name} will confirm on WhatsApp. You can reply STOP there at any time.` : `Thank you. ${business.name} will not send you WhatsApp messages. Goodbye.`),
        );
    }
  });

  app.post('/webhooks/twilio/voice/no-answer', callback, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    await receiveNoAnswer(deps, { workflowId: p.wf, runId: p.run }, (request.body as Record<string, string>).CallSid ?? '');
    return twiml(reply, sayAndHangUpTwiml('We did not receive an answer. Goodbye.'));
  });

  app.post('/webhooks/twilio/voice/status', callback, async (request, reply) => {
    const p = parseOr400(voiceParamsSchema, request.query, 'query');
    const body = request.body as Record<string, string>;
    await receiveCallStatus(deps, { workflowId: p.wf, runId: p.run }, body.CallSid ?? '', body.CallStatus ?? '');
    return reply.status(204).send();
  });
}
