import { createHash } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import type { Business } from '../domain/business';
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
import { inServiceWindow } from '../domain/whatsapp-window';
import { pageLinks } from '../lib/page-links';
import type { Store } from '../store/models';
import type { SendInput } from './channel';
import { composeMeta, isOnMeta, type MetaOutgoing } from './compose-meta';
import { messagingResumedText, preferencesLinkText } from './optout';

/** A Twilio message exactly as we ask for it: a body, or a content template with its variables. */
export interface MessageParams {
  to: string;
  from: string;
  body?: string;
  contentSid?: string;
  contentVariables?: string;
  statusCallback: string;
}

export interface CallParams {
  to: string;
  from: string;
  url: string;
  statusCallback: string;
}

/** One send, composed before the provider is called, so a retry can look for it at the provider. */
export type Outgoing =
  | { kind: 'message'; params: MessageParams; shown: string; mode?: 'template' | 'session' }
  | { kind: 'call'; params: CallParams; shown: string }
  | { kind: 'email'; mail: SendMailOptions; shown: string }
  | MetaOutgoing;

export interface ComposeDeps {
  store: Store;
  publicBaseUrl: string;
  pageTokenSecret: string;
}

/**
 * The same Message-ID for every attempt of one send: if an ambiguous e-mail is sent again, mailboxes
 * that fold repeated Message-IDs show it once.
 */
function messageIdFor(idempotencyKey: string, senderAddress: string): string {
  const domain = senderAddress.split('@')[1] || 'optinflow.invalid';
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/** What each send says, on which channel, from which sender: the texts, templates and TwiML a contact gets. */
export function createComposer({ store, publicBaseUrl, pageTokenSecret }: ComposeDeps) {
  const linksOf = pageLinks(publicBaseUrl, pageTokenSecret);

  /** The outbox key rides along, so the provider's report of a message we never heard back about settles it. */
  function statusCallback(input: SendInput): string {
    const url = new URL('/webhooks/twilio/status', publicBaseUrl);
    const params = { wf: input.workflowId, run: input.runId, step: input.step, b: input.businessId, c: input.contactId, o: input.idempotencyKey };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
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

  async function inWindowOf(input: SendInput): Promise<boolean> {
    const contact = await store.contacts.findById(input.contactId).lean();
    return inServiceWindow(contact?.lastWhatsappInboundAt);
  }

  async function whatsapp(input: SendInput, business: Business, textInput: Parameters<typeof optinRequestText>[0]): Promise<Outgoing> {
    if (isOnMeta(business)) {
      const asks = input.purpose === 'request' || input.purpose === 'reminder';
      const sessionText = () => (input.purpose === 'clarify' ? clarifyText(textInput) : smsBody(input, textInput));
      return composeMeta(input, business, textInput, asks && (await inWindowOf(input)), sessionText);
    }
    const base = { to: `whatsapp:${input.phone}`, from: `whatsapp:${business.senders.whatsapp}`, statusCallback: statusCallback(input) };
    const content = (contentSid: string, variables: Record<string, string>) => ({ ...base, contentSid, contentVariables: JSON.stringify(variables) });
    if (input.purpose === 'confirmation' || input.purpose === 'optout_confirmation') {
      const confirmation = input.purpose === 'confirmation';
      const contentSid = confirmation ? business.whatsappTemplates.confirmation : business.whatsappTemplates.optoutConfirmation;
      const shown = confirmation ? confirmationText(textInput) : optoutConfirmationText(textInput);
      return { kind: 'message', params: content(contentSid, whatsappTemplateVariables(textInput)), shown, mode: 'template' };
    }
    if (input.purpose === 'category_question' && business.whatsappCategoryChoiceContent && input.categories.length <= MAX_CATEGORY_BUTTONS) {
      // The contact has just written to us, so a session quick reply may go out: one button per category and All.
      const shown = categoryQuestionText(textInput, true);
      return { kind: 'message', params: content(business.whatsappCategoryChoiceContent, { '1': shown }), shown, mode: 'session' };
    }
    if (input.purpose === 'category_question' || input.purpose === 'category_clarify' || input.purpose === 'clarify' || input.purpose === 'help' || input.purpose === 'resume_confirmation') {
      const body = input.purpose === 'clarify' ? clarifyText(textInput) : smsBody(input, textInput);
      return { kind: 'message', params: { ...base, body }, shown: body, mode: 'session' };
    }
    const quickReply = business.whatsappQuickReplyContent;
    const inWindow = quickReply !== undefined && (await inWindowOf(input));
    const shown = input.purpose === 'reminder' ? reminderText(textInput, 'whatsapp') : optinRequestText(textInput, 'whatsapp');
    const params = inWindow ? content(quickReply, { '1': shown }) : content(business.whatsappTemplates.optinRequest, whatsappTemplateVariables(textInput));
    return { kind: 'message', params, shown, mode: inWindow ? 'session' : 'template' };
  }

  /** `input.email` is present for the e-mail channel (the send gate checked). */
  async function compose(input: SendInput, business: Business): Promise<Outgoing> {
    const locale = pickLocale(input.locale, business);
    const textInput = { business, categories: input.categories, locale };
    switch (input.channel) {
      case 'sms': {
        const body = smsBody(input, textInput);
        return { kind: 'message', params: { to: input.phone, from: business.senders.sms, body, statusCallback: statusCallback(input) }, shown: body };
      }
      case 'whatsapp':
        return whatsapp(input, business, textInput);
      case 'ivr': {
        const urls = ivrWebhookUrls(publicBaseUrl, { wf: input.workflowId ?? '', run: input.runId ?? '', step: input.step ?? 0, b: business.id, cats: input.categories });
        const shown = optinCallTwiml(business, input.categories, 1, { gatherAction: urls.gatherAction, retry: urls.start(2), noAnswer: urls.noAnswer });
        return { kind: 'call', params: { to: input.phone, from: business.senders.voice, url: urls.start(1), statusCallback: urls.status }, shown };
      }
      case 'email': {
        const confirmUrl = input.journeyId ? linksOf.confirm(business.id, input.contactId, input.journeyId, input.categories, input.linksValidUntil) : '';
        const unsubscribeUrl = linksOf.unsubscribe(business.id, input.contactId);
        const content = optinEmail({ ...textInput, confirmUrl, unsubscribeUrl, reminder: input.purpose === 'reminder' });
        const mail: SendMailOptions = {
          from: { name: business.name, address: business.senders.email },
          to: input.email,
          subject: content.subject,
          text: content.text,
          html: content.html,
          messageId: messageIdFor(input.idempotencyKey, business.senders.email),
          headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Optinflow-Key': input.idempotencyKey },
        };
        return { kind: 'email', mail, shown: content.text };
      }
    }
  }

  return { compose };
}

export type Composer = ReturnType<typeof createComposer>;
