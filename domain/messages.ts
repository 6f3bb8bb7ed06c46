import type { Business, Channel } from './business';
import { categoryLabels } from './business';
import { escapeHtml } from './escape';

/**
 * Every text a contact is shown. WhatsApp policy requires the opt-in request to name the business,
 * say the messages will come over WhatsApp and list what they are about; each text here does.
 */
export type Locale = 'en' | 'es' | 'fr';

export function pickLocale(requested: string | undefined, business: Business): Locale {
  const lang = (requested ?? business.defaultLocale).slice(0, 2).toLowerCase();
  return lang === 'es' || lang === 'fr' ? lang : 'en';
}

function list(labels: string[], locale: Locale): string {
  const and = { en: 'and', es: 'y', fr: 'et' }[locale];
  if (labels.length <= 1) return labels.join('');
  return `${labels.slice(0, -1).join(', ')} ${and} ${labels[labels.length - 1]}`;
}

export interface OptinTextInput {
  business: Business;
  categories: readonly string[];
  locale: Locale;
}

/** SMS and WhatsApp (session) opt-in request. */
export function optinRequestText({ business, categories, locale }: OptinTextInput, channel: 'sms' | 'whatsapp'): string {
  const what = list(categoryLabels(business, categories), locale);
  const howSms = { en: 'Reply YES to agree or NO to decline. Reply STOP to opt out.', es: 'Responde SI para aceptar o NO para rechazar. Responde STOP para darte de baja.', fr: 'Répondez OUI pour accepter ou NON pour refuser. Répondez STOP pour vous désinscrire.' }[locale];
  const howWa = { en: 'Tap Yes to agree or No to decline. Reply STOP at any time to opt out.', es: 'Pulsa Sí para aceptar o No para rechazar. Responde STOP para darte de baja.', fr: 'Touchez Oui pour accepter ou Non pour refuser. Répondez STOP pour vous désinscrire.' }[locale];
  const ask = {
    en: `${business.name}: may we send you ${what} on WhatsApp?`,
    es: `${business.name}: ¿podemos enviarte ${what} por WhatsApp?`,
    fr: `${business.name} : pouvons-nous vous envoyer ${what} sur WhatsApp ?`,
  }[locale];
  return `${ask} ${channel === 'sms' ? howSms : howWa}`;
}

export function reminderText(input: OptinTextInput, channel: 'sms' | 'whatsapp'): string {
  const prefix = { en: 'Reminder', es: 'Recordatorio', fr: 'Rappel' }[input.locale];
  return `${prefix} - ${optinRequestText(input, channel)}`;
}

export function clarifyText({ business, locale }: { business: Business; locale: Locale }): string {
  return {
    en: `${business.name}: sorry, we did not understand. Please reply YES or NO. Reply STOP to opt out.`,
    es: `${business.name}: no te hemos entendido. Responde SI o NO. Responde STOP para darte de baja.`,
    fr: `${business.name} : nous n'avons pas compris. Répondez OUI ou NON. Répondez STOP pour vous désinscrire.`,
  }[locale];
}

export function confirmationText({ business, categories, locale }: OptinTextInput): string {
  const what = list(categoryLabels(business, categories), locale);
  return {
    en: `You're subscribed to ${what} from ${business.name} on WhatsApp. Reply STOP to opt out.`,
    es: `Te has suscrito a ${what} de ${business.name} por WhatsApp. Responde STOP para darte de baja.`,
    fr: `Vous êtes inscrit à ${what} de ${business.name} sur WhatsApp. Répondez STOP pour vous désinscrire.`,
  }[locale];
}

export function optoutConfirmationText({ business, locale }: { business: Business; locale: Locale }): string {
  return {
    en: `${business.name}: you are unsubscribed and will receive no more messages. Reply START to opt back in.`,
    es: `${business.name}: te has dado de baja y no recibirás más mensajes. Responde START para volver a suscribirte.`,
    fr: `${business.name} : vous êtes désinscrit et ne recevrez plus de messages. Répondez START pour vous réinscrire.`,
  }[locale];
}

export function helpText({ business, locale }: { business: Business; locale: Locale }): string {
  return {
    en: `${business.name} sends WhatsApp messages only with your consent. Reply STOP to opt out, START to opt back in.`,
    es: `${business.name} envía mensajes de WhatsApp solo con tu consentimiento. Responde STOP para darte de baja, START para volver.`,
    fr: `${business.name} n'envoie des messages WhatsApp qu'avec votre accord. Répondez STOP pour vous désinscrire, START pour vous réinscrire.`,
  }[locale];
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function optinEmail(input: OptinTextInput & { confirmUrl: string; unsubscribeUrl: string; reminder?: boolean }): EmailContent {
  const { business, categories } = input;
  const labels = categoryLabels(business, categories);
  const subject = `${input.reminder ? 'Reminder: ' : ''}${business.name} would like to message you on WhatsApp`;
  const text = [
    `${business.name} would like to send you these messages on WhatsApp:`,
    ...labels.map((l) => `  - ${l}`),
    '',
    `To agree or decline, open: ${input.confirmUrl}`,
    'Nothing changes until you press Confirm on that page.',
    '',
    `You can opt out at any time by replying STOP on WhatsApp, or here: ${input.unsubscribeUrl}`,
  ].join('\n');
  const html = `<p>${escapeHtml(business.name)} would like to send you these messages on <strong>WhatsApp</strong>:</p>
<ul>${labels.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<p><a href="${escapeHtml(input.confirmUrl)}">Review and confirm</a> (nothing changes until you press Confirm on that page).</p>
<p style="font-size:small">You can opt out at any time by replying STOP on WhatsApp, or <a href="${escapeHtml(input.unsubscribeUrl)}">unsubscribe here</a>.</p>`;
  return { subject, text, html };
}

/** Words spoken in the IVR call; kept here so the TwiML served and the proof recorded agree. */
export function ivrPrompt({ business, categories }: OptinTextInput): string {
  const what = list(categoryLabels(business, categories), 'en');
  return `Hello. This is ${business.name}. We would like to send you ${what} on WhatsApp. Press 1 to receive WhatsApp messages. Press 2 to decline. Press 9 to stop all messages from ${business.name}.`;
}

export function whatsappTemplateVariables({ business, categories, locale }: OptinTextInput): Record<string, string> {
  return { '1': business.name, '2': list(categoryLabels(business, categories), locale) };
}

export const CHANNEL_LABEL: Record<Channel, string> = { sms: 'SMS', email: 'e-mail', ivr: 'voice call', whatsapp: 'WhatsApp' };

/** How to answer the in-thread category question: "Reply 1 for Order updates, 2 for Offers, 1,2 for several, ALL for all." */
function categoryReplyHow({ business, categories, locale }: OptinTextInput): string {
  const labels = categoryLabels(business, categories);
  const n = labels.length;
  const [replyWord, forWord, several, all, stop] = {
    en: ['Reply', 'for', 'for several', 'ALL for all', 'Reply STOP to opt out.'],
    es: ['Responde', 'para', 'para varias', 'TODO para todas', 'Responde STOP para darte de baja.'],
    fr: ['Répondez', 'pour', 'pour plusieurs', 'TOUT pour tout', 'Répondez STOP pour vous désinscrire.'],
  }[locale];
  const numbered = labels.map((l, i) => `${i + 1} ${forWord} ${l}`);
  const parts = [...numbered, ...(n > 1 ? [`1,${n} ${several}`] : []), all];
  return `${replyWord} ${parts.join(', ')}. ${stop}`;
}

/**
 * The in-thread question to a contact who wrote START with nothing running: names the business and
 * WhatsApp and lists the categories by number; with WhatsApp buttons, they carry the same choice.
 */
export function categoryQuestionText(input: OptinTextInput, withButtons: boolean): string {
  const { business, locale } = input;
  const ask = {
    en: `${business.name}: which messages would you like from us on WhatsApp?`,
    es: `${business.name}: ¿qué mensajes quieres recibir de nosotros por WhatsApp?`,
    fr: `${business.name} : quels messages souhaitez-vous recevoir de notre part sur WhatsApp ?`,
  }[locale];
  const tap = { en: 'Tap one below, or', es: 'Pulsa una opción abajo, o', fr: 'Touchez un choix ci-dessous, ou' }[locale];
  const how = categoryReplyHow(input);
  return withButtons ? `${ask} ${tap} ${how.charAt(0).toLowerCase()}${how.slice(1)}` : `${ask} ${how}`;
}

export function categoryClarifyText(input: OptinTextInput): string {
  const sorry = {
    en: `${input.business.name}: sorry, we did not understand which messages you want.`,
    es: `${input.business.name}: no hemos entendido qué mensajes quieres.`,
    fr: `${input.business.name} : nous n'avons pas compris quels messages vous souhaitez.`,
  }[input.locale];
  return `${sorry} ${categoryReplyHow(input)}`;
}
