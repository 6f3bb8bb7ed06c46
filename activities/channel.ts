import { ApplicationFailure, log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Twilio } from 'twilio';
import type { Business, BusinessRegistry, Channel } from '../domain/business';
import { MAX_CATEGORY_BUTTONS } from '../domain/category-choice';
import {
  categoryClarifyText,
  categoryQuestionText,
  clarifyText,
  confirmationText,
  helpText,
  optinEmail,
  optinRequestText,
  optoutConfirmationText,
  pickLocale,
  reminderText,
  whatsappTemplateVariables,
} from '../domain/messages';
import { ivrWebhookUrls, optinCallTwiml } from '../domain/twiml';
import { pageLinks } from '../lib/page-links';
import type { Store } from '../store/models';
import { claimOutbox, finishOutbox, recordRefusedSend } from '../store/queries';
import { FailureType } from '../workflows/failures';
import { requireBusiness } from './business';
import { CARRIER_UNSUBSCRIBED_CODES } from '../domain/provider-codes';
import { enterSendFence, isBlocked, leaveSendFence } from '../store/blocks';
import { messagingResumedText, preferencesLinkText, startCarrierOptOut } from './optout';
import { inServiceWindow } from '../domain/whatsapp-window';

export interface ChannelDeps {
  store: Store;
  twilio: Twilio;
  mailer: Transporter;
  businesses: BusinessRegistry;
  publicBaseUrl: string;
  pageTokenSecret: string;
}

export type SendPurpose =
  | 'request'
  | 'reminder'
  | 'clarify'
  | 'confirmation'
  | 'optout_confirmation'
  | 'help'
  | 'resume_confirmation'
  | 'category_question'
  | 'category_clarify';

export interface SendInput {
  idempotencyKey: string;
  purpose: SendPurpose;
  channel: Channel;
  businessId: string;
  contactId: string;
  phone: string;
  email?: string;
  locale?: string;
  categories: string[];
  journeyId?: string;
  workflowId?: string;
  runId?: string;
  step?: number;
  /** Until when links in this message stay valid (epoch ms). */
  linksValidUntil?: number;
}

export interface SendResult {
  outcome: 'sent' | 'failed' | 'refused' | 'ambiguous';
  providerId?: string;
  errorCode?: number;
  reason?: string;
  /** Exactly what the contact was shown (text, rendered template or TwiML). */
  shown?: string;
  mode?: 'template' | 'session';
  at: string;
}

/** Twilio errors after which this channel cannot reach the contact; the journey moves on at once. */
export const UNREACHABLE_CODES = new Set([21211, 21214, 21610, 21612, 21614, 30003, 30005, 30006, 63003, 63016, 63024]);
const OPTED_OUT_REASON = 'contact opted out: only the opt-out confirmation may be sent';

type ProviderError = { kind: 'retry'; detail: string } | { kind: 'ambiguous'; detail: string } | { kind: 'rejected'; code?: number; detail: string };

/** Decides what a provider error means for delivery: safe to retry, maybe delivered, or refused. */
export function classifyProviderError(err: unknown): ProviderError {
  const e = err as { status?: number; code?: number | string; responseCode?: number; message?: string; errno?: string };
  const detail = e?.message ?? String(err);
  const netCode = typeof e?.code === 'string' ? e.code : e?.errno;
  if (netCode === 'ECONNREFUSED' || netCode === 'ENOTFOUND' || netCode === 'EAI_AGAIN' || /ECONNREFUSED/.test(detail)) return { kind: 'retry', detail };
  if (netCode === 'ECONNECTION' && /ECONNREFUSED|connect/i.test(detail)) return { kind: 'retry', detail };
  if (typeof e?.status === 'number') {
    if (e.status === 429) return { kind: 'retry', detail };
    if (e.status >= 500) return { kind: 'ambiguous', detail };
    if (e.status >= 400) return { kind: 'rejected', code: typeof e.code === 'number' ? e.code : undefined, detail };
  }
  if (typeof e?.responseCode === 'number') {
    if (e.responseCode >= 500) return { kind: 'rejected', code: e.responseCode, detail };
    if (e.responseCode >= 400) return { kind: 'retry', detail };
  }
  return { kind: 'ambiguous', detail };
}

export function createChannelActivities(deps: ChannelDeps) {
  const { store, twilio, mailer, businesses, publicBaseUrl, pageTokenSecret } = deps;

  function webhookUrl(path: string, params: Record<string, string | number | undefined>): string {
    const url = new URL(path, publicBaseUrl);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  function statusCallback(input: SendInput): string {
    return webhookUrl('/webhooks/twilio/status', { wf: input.workflowId, run: input.runId, step: input.step, b: input.businessId, c: input.contactId });
  }

  const linksOf = pageLinks(publicBaseUrl, pageTokenSecret);

  function links(input: SendInput, business: Business) {
    return {
      confirmUrl: input.journeyId ? linksOf.confirm(business.id, input.contactId, input.journeyId, input.categories, input.linksValidUntil) : '',
      unsubscribeUrl: linksOf.unsubscribe(business.id, input.contactId),
    };
  }

  async function deliver(input: SendInput, business: Business): Promise<{ providerId: string; shown: string; mode?: 'template' | 'session' }> {
    const locale = pickLocale(input.locale, business);
    const textInput = { business, categories: input.categories, locale };
    switch (input.channel) {
      case 'sms': {
        const body = smsBody(input, textInput);
        const msg = await twilio.messages.create({ to: input.phone, from: business.senders.sms, body, statusCallback: statusCallback(input) });
        return { providerId: msg.sid, shown: body };
      }
      case 'whatsapp': {
        const to = `whatsapp:${input.phone}`;
        const from = `whatsapp:${business.senders.whatsapp}`;
        if (input.purpose === 'confirmation' || input.purpose === 'optout_confirmation') {
          const contentSid = input.purpose === 'confirmation' ? business.whatsappTemplates.confirmation : business.whatsappTemplates.optoutConfirmation;
          const shown = input.purpose === 'confirmation' ? confirmationText(textInput) : optoutConfirmationText(textInput);
          const msg = await twilio.messages.create({ to, from, contentSid, contentVariables: JSON.stringify(whatsappTemplateVariables(textInput)), statusCallback: statusCallback(input) });
          return { providerId: msg.sid, shown, mode: 'template' };
        }
        if (input.purpose === 'category_question' && business.whatsappCategoryChoiceContent && input.categories.length <= MAX_CATEGORY_BUTTONS) {
          // The contact has just written to us, so a session quick reply may go out: one button per category and All.
          const shown = categoryQuestionText(textInput, true);
          const msg = await twilio.messages.create({ to, from, contentSid: business.whatsappCategoryChoiceContent, contentVariables: JSON.stringify({ '1': shown }), statusCallback: statusCallback(input) });
          return { providerId: msg.sid, shown, mode: 'session' };
        }
        if (input.purpose === 'category_question' || input.purpose === 'category_clarify') {
          const body = input.purpose === 'category_question' ? categoryQuestionText(textInput, false) : categoryClarifyText(textInput);
          const msg = await twilio.messages.create({ to, from, body, statusCallback: statusCallback(input) });
          return { providerId: msg.sid, shown: body, mode: 'session' };
        }
        if (input.purpose === 'clarify' || input.purpose === 'help' || input.purpose === 'resume_confirmation') {
          const body = input.purpose === 'clarify' ? clarifyText(textInput) : smsBody(input, textInput);
          const msg = await twilio.messages.create({ to, from, body, statusCallback: statusCallback(input) });
          return { providerId: msg.sid, shown: body, mode: 'session' };
        }
        const contact = await store.contacts.findById(input.contactId).lean();
        const inWindow = inServiceWindow(contact?.lastWhatsappInboundAt);
        const shown = input.purpose === 'reminder' ? reminderText(textInput, 'whatsapp') : optinRequestText(textInput, 'whatsapp');
        const contentSid = inWindow ? business.whatsappQuickReplyContent : business.whatsappTemplates.optinRequest;
        const variables = inWindow ? { '1': shown } : whatsappTemplateVariables(textInput);
        const msg = await twilio.messages.create({ to, from, contentSid, contentVariables: JSON.stringify(variables), statusCallback: statusCallback(input) });
        return { providerId: msg.sid, shown, mode: inWindow ? 'session' : 'template' };
      }
      case 'ivr': {
        const urls = ivrWebhookUrls(publicBaseUrl, { wf: input.workflowId ?? '', run: input.runId ?? '', step: input.step ?? 0, b: business.id, cats: input.categories });
        const call = await twilio.calls.create({ to: input.phone, from: business.senders.voice, url: urls.start(1), statusCallback: urls.status });
        return { providerId: call.sid, shown: optinCallTwiml(business, input.categories, 1, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer }) };
      }
      case 'email': {
        if (!input.email) throw ApplicationFailure.create({ type: FailureType.MissingEmail, message: 'the contact has no e-mail address', nonRetryable: true });
        const { confirmUrl, unsubscribeUrl } = links(input, business);
        const content = optinEmail({ ...textInput, confirmUrl, unsubscribeUrl, reminder: input.purpose === 'reminder' });
        const info = await mailer.sendMail({
          from: { name: business.name, address: business.senders.email },
          to: input.email,
          subject: content.subject,
          text: content.text,
          html: content.html,
          headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Optinflow-Key': input.idempotencyKey },
        });
        return { providerId: info.messageId, shown: content.text };
      }
    }
  }

  function smsBody(input: SendInput, textInput: Parameters<typeof optinRequestText>[0]): string {
    switch (input.purpose) {
      case 'reminder':
        return reminderText(textInput, 'sms');
      case 'clarify':
        return clarifyText(textInput);
      case 'confirmation':
        return confirmationText(textInput);
      case 'optout_confirmation':
        return optoutConfirmationText(textInput);
      case 'help':
        return `${helpText(textInput)} ${preferencesLinkText(textInput.locale, linksOf.preferences(input.businessId, input.contactId))}`;
      case 'resume_confirmation':
        return messagingResumedText(textInput);
      case 'category_question':
        return categoryQuestionText(textInput, false);
      case 'category_clarify':
        return categoryClarifyText(textInput);
      default:
        return optinRequestText(textInput, 'sms');
    }
  }

  /**
   * The one way anything reaches a contact. The send gate re-reads consent right before the provider
   * call; the outbox row claimed first makes a retried activity send at most once.
   */
  async function send(input: SendInput): Promise<SendResult> {
    const business = requireBusiness(businesses, input.businessId);
    const to = input.channel === 'email' ? (input.email ?? '') : input.phone;
    const row = { _id: input.idempotencyKey, businessId: input.businessId, contactId: input.contactId, journeyId: input.journeyId, channel: input.channel, purpose: input.purpose, to };

    if (input.purpose !== 'optout_confirmation') {
      const contact = await store.contacts.findById(input.contactId).lean();
      if (await isBlocked(store, input.contactId, contact)) {
        await recordRefusedSend(store, { ...row, reason: OPTED_OUT_REASON });
        log.info('send refused by the send gate', { key: input.idempotencyKey, purpose: input.purpose });
        return { outcome: 'refused', reason: OPTED_OUT_REASON, at: new Date().toISOString() };
      }
    }

    const claim = await claimOutbox(store, row);
    if (claim.kind === 'finished') {
      const r = claim.row;
      if (r.status === 'failed' && r.errorCode != null && CARRIER_UNSUBSCRIBED_CODES.has(r.errorCode)) await startCarrierOptOut(store, input, r.errorCode, r.reason ?? '');
      return { outcome: r.status as SendResult['outcome'], providerId: r.providerId ?? undefined, errorCode: r.errorCode ?? undefined, reason: r.reason ?? undefined, shown: r.shown ?? undefined, at: new Date(r.sentAt ?? r.updatedAt ?? Date.now()).toISOString() };
    }
    if (claim.kind === 'ambiguous') {
      log.warn('not resending: an earlier attempt may have reached the provider', { key: input.idempotencyKey });
      return { outcome: 'ambiguous', reason: claim.row.reason ?? 'earlier attempt did not report back', at: new Date().toISOString() };
    }

    // The gate's last word, atomic with the block: either this send is registered as at the provider
    // (and an opt-out waits for it before acknowledging), or the contact is blocked and nothing is sent.
    const fenced = input.purpose !== 'optout_confirmation';
    if (fenced) {
      const entered = await enterSendFence(store, input.contactId, input.idempotencyKey).catch(async (err: Error) => {
        // Nothing reached the provider: release the claim so the retry may send.
        await finishOutbox(store, input.idempotencyKey, { status: 'released', reason: err.message }).catch(() => undefined);
        throw err;
      });
      if (!entered) {
        await finishOutbox(store, input.idempotencyKey, { status: 'refused', reason: OPTED_OUT_REASON });
        log.info('send refused by the send gate after claiming', { key: input.idempotencyKey, purpose: input.purpose });
        return { outcome: 'refused', reason: OPTED_OUT_REASON, at: new Date().toISOString() };
      }
    }

    try {
      const delivered = await deliverFenced(input, business, fenced);
      await finishOutbox(store, input.idempotencyKey, { status: 'sent', providerId: delivered.providerId, shown: delivered.shown });
      return { outcome: 'sent', providerId: delivered.providerId, shown: delivered.shown, mode: delivered.mode, at: new Date().toISOString() };
    } catch (err) {
      if (err instanceof ApplicationFailure) {
        await finishOutbox(store, input.idempotencyKey, { status: 'failed', reason: err.message });
        throw err;
      }
      const verdict = classifyProviderError(err);
      if (verdict.kind === 'retry') {
        await finishOutbox(store, input.idempotencyKey, { status: 'released', reason: verdict.detail });
        throw ApplicationFailure.create({ type: 'ProviderUnavailable', message: `provider unavailable, will retry: ${verdict.detail}` });
      }
      if (verdict.kind === 'ambiguous') {
        await finishOutbox(store, input.idempotencyKey, { status: 'ambiguous', reason: verdict.detail });
        log.warn('provider outcome unknown; not resending', { key: input.idempotencyKey, detail: verdict.detail });
        return { outcome: 'ambiguous', reason: verdict.detail, at: new Date().toISOString() };
      }
      await finishOutbox(store, input.idempotencyKey, { status: 'failed', errorCode: verdict.code, reason: verdict.detail });
      if (verdict.code !== undefined && CARRIER_UNSUBSCRIBED_CODES.has(verdict.code)) await startCarrierOptOut(store, input, verdict.code, verdict.detail);
      return { outcome: 'failed', errorCode: verdict.code, reason: verdict.detail, at: new Date().toISOString() };
    }
  }

  /**
   * The provider call, registered on the contact for exactly as long as it runs: an opt-out waits for
   * it. Leaving must not turn a delivered message into an error (a retry would send again); an entry
   * left behind expires on its own.
   */
  async function deliverFenced(input: SendInput, business: Business, fenced: boolean) {
    try {
      return await deliver(input, business);
    } finally {
      if (fenced) await leaveSendFence(store, input.contactId, input.idempotencyKey).catch((err: Error) => log.warn('could not clear the in-flight mark', { key: input.idempotencyKey, error: err.message }));
    }
  }

  return { send };
}

export type ChannelActivities = ReturnType<typeof createChannelActivities>;
