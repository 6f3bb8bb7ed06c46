import type { Business } from '../domain/business';
import { BUTTON_PAYLOADS } from '../domain/keywords';
import { confirmationText, optinRequestText, optoutConfirmationText, reminderText, whatsappTemplateVariables, type OptinTextInput } from '../domain/messages';
import type { SendInput } from './channel';
import type { MetaSendRequest } from './providers/meta';

/** A WhatsApp message for the Cloud API, composed before the call so a retry knows what it was. */
export interface MetaOutgoing {
  kind: 'meta';
  request: MetaSendRequest;
  shown: string;
  mode: 'template' | 'session';
  /** The approved template and language a template send used: part of the ledger's proof. */
  template?: { name: string; language: string };
}

type MetaBusiness = Business & { whatsapp: { provider: 'meta'; phoneNumberId: string; apiVersion: string } };

export function isOnMeta(business: Business): business is MetaBusiness {
  return business.whatsapp.provider === 'meta';
}

const YES_NO_TITLES = { en: ['Yes', 'No'], es: ['Sí', 'No'], fr: ['Oui', 'Non'] } as const;

/**
 * Everything the status webhook needs to find the journey and the outbox row again (the same fields the
 * Twilio status callback URL carries); Meta echoes it in every `statuses` entry of this message.
 */
export function metaCallbackData(input: SendInput): string {
  const params = new URLSearchParams();
  const fields = { wf: input.workflowId, run: input.runId, step: input.step, b: input.businessId, c: input.contactId, o: input.idempotencyKey };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.set(k, String(v));
  return params.toString();
}

/**
 * The Cloud API version of a WhatsApp send: the approved templates outside the 24-hour window (the
 * opt-in request with Yes/No/Stop quick replies carrying our button payloads), interactive Yes/No
 * buttons inside it, plain text for answers to the contact's own messages.
 */
export function composeMeta(input: SendInput, business: MetaBusiness, textInput: OptinTextInput, inWindow: boolean, sessionText: () => string): MetaOutgoing {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: input.phone.replace(/^\+/, ''), biz_opaque_callback_data: metaCallbackData(input) };
  const request = (body: Record<string, unknown>): MetaSendRequest => ({ phoneNumberId: business.whatsapp.phoneNumberId, apiVersion: business.whatsapp.apiVersion, body: { ...base, ...body } });
  const vars = whatsappTemplateVariables(textInput);
  // Meta refuses a template whose body parameters are not exactly its placeholders (132000).
  const bodyOf = (values: string[]) => ({ type: 'body', parameters: values.map((text) => ({ type: 'text', text })) });

  const template = (name: string, shown: string, values: string[], buttons: string[] = []): MetaOutgoing => {
    const components = [bodyOf(values), ...buttons.map((payload, index) => ({ type: 'button', sub_type: 'quick_reply', index: String(index), parameters: [{ type: 'payload', payload }] }))];
    return { kind: 'meta', request: request({ type: 'template', template: { name, language: { code: textInput.locale }, components } }), shown, mode: 'template', template: { name, language: textInput.locale } };
  };

  if (input.purpose === 'confirmation') return template(business.whatsappTemplates.confirmation, confirmationText(textInput), [vars['1'], vars['2']]);
  if (input.purpose === 'optout_confirmation') return template(business.whatsappTemplates.optoutConfirmation, optoutConfirmationText(textInput), [vars['1']]);
  if (input.purpose !== 'request' && input.purpose !== 'reminder') {
    const text = sessionText();
    return { kind: 'meta', request: request({ type: 'text', text: { body: text, preview_url: false } }), shown: text, mode: 'session' };
  }
  const shown = input.purpose === 'reminder' ? reminderText(textInput, 'whatsapp') : optinRequestText(textInput, 'whatsapp');
  if (!inWindow) return template(business.whatsappTemplates.optinRequest, shown, [vars['1'], vars['2']], [BUTTON_PAYLOADS.yes, BUTTON_PAYLOADS.no, BUTTON_PAYLOADS.stop]);
  const [yes, no] = YES_NO_TITLES[textInput.locale];
  const interactive = {
    type: 'button',
    body: { text: shown },
    action: { buttons: [{ type: 'reply', reply: { id: BUTTON_PAYLOADS.yes, title: yes } }, { type: 'reply', reply: { id: BUTTON_PAYLOADS.no, title: no } }] },
  };
  return { kind: 'meta', request: request({ type: 'interactive', interactive }), shown, mode: 'session' };
}
