import type { Business } from './business';
import { ivrPrompt } from './messages';

/** TwiML for the opt-in call. Kept pure so the voice webhook serves, and the proof records, the same document. */

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

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
