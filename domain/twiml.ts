import { categoryLabels, type Business } from './business';
import { xmlEscape } from './escape';
import { ivrPrompt } from './messages';

/** TwiML for the opt-in call. Kept pure so the voice webhook serves, and the proof records, the same document. */

export interface IvrUrls {
  gatherAction: string;
  retry: string;
  noAnswer: string;
}

export function optinCallTwiml(business: Business, categories: readonly string[], attempt: 1 | 2, urls: IvrUrls): string {
  const prompt = ivrPrompt({ business, categories, locale: 'en' });
  const after = attempt === 1 ? `<Redirect method="POST">${xmlEscape(urls.retry)}</Redirect>` : `<Redirect method="POST">${xmlEscape(urls.noAnswer)}</Redirect>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" timeout="6" action="${xmlEscape(urls.gatherAction)}" method="POST"><Say>${xmlEscape(prompt)}</Say></Gather>${after}</Response>`;
}

export function sayAndHangUpTwiml(text: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Say>${xmlEscape(text)}</Say><Hangup/></Response>`;
}

export interface IvrCallParams {
  wf: string;
  run: string;
  step: number;
  b: string;
  cats: readonly string[];
}

/** The voice webhook URLs of one opt-in call; the activity and the API build them the same way. */
export function ivrWebhookUrls(publicBaseUrl: string, p: IvrCallParams) {
  const base = publicBaseUrl.replace(/\/+$/, '');
  const q = `wf=${encodeURIComponent(p.wf)}&run=${encodeURIComponent(p.run)}&step=${p.step}&b=${encodeURIComponent(p.b)}&cats=${encodeURIComponent(p.cats.join(','))}`;
  return {
    start: (attempt: 1 | 2) => `${base}/webhooks/twilio/voice/optin?${q}&attempt=${attempt}`,
    gatherAction: `${base}/webhooks/twilio/voice/gather?${q}`,
    noAnswer: `${base}/webhooks/twilio/voice/no-answer?${q}`,
    status: `${base}/webhooks/twilio/voice/status?${q}`,
  };
}

function spokenList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Words of the menu on the business's own voice number; the gather handler rebuilds them from the signed URL to keep as proof. */
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

/** The inbound menu; the webhook serves, and the proof records, the same document. */
export function inboundMenuTwiml(business: Business, categories: readonly string[], urls: InboundMenuUrls, attempt: 1 | 2): string {
  const after = attempt === 1 ? `<Redirect method="POST">${xmlEscape(urls.menu(2))}</Redirect>` : `<Say>${xmlEscape(`Thank you for calling ${business.name}. Goodbye.`)}</Say><Hangup/>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" timeout="6" action="${xmlEscape(urls.gather(attempt))}" method="POST"><Say>${xmlEscape(inboundMenuPrompt(business, categories))}</Say></Gather>${after}</Response>`;
}

/** The inbound menu's webhook URLs for a business's categories. */
export function inboundMenuUrls(publicBaseUrl: string, businessId: string, categories: readonly string[]): InboundMenuUrls {
  const base = publicBaseUrl.replace(/\/+$/, '');
  const q = `b=${encodeURIComponent(businessId)}&cats=${encodeURIComponent(categories.join(','))}`;
  return {
    gather: (attempt) => `${base}/webhooks/twilio/voice/inbound/gather?${q}&attempt=${attempt}`,
    menu: (attempt) => `${base}/webhooks/twilio/voice/inbound/menu?${q}&attempt=${attempt}`,
  };
}
