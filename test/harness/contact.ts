import { randomInt } from 'node:crypto';
import twilio from 'twilio';
import { contactIdOf } from '../../store/models';
import { TEST_AUTH_TOKEN, type TestStack } from './stack';
import { waitForJourneyStatus } from './stack-queries';
import { eventually, sleep } from './wait';

/* Playing a contact of the demo business `acme` and reading what was recorded about them. */

/**
 * Test files share one Temporal server and journey ids derive from the phone: every run uses its own
 * numbers. Gives numbers `<prefix>NNNN` (e.g. '+1206555'), never the same one twice.
 */
export function freshPhones(prefix: string): () => string {
  const used = new Set<string>();
  return () => {
    for (;;) {
      const phone = `${prefix}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
      if (!used.has(phone)) {
        used.add(phone);
        return phone;
      }
    }
  };
}

/**
 * Numbers `+1415<exchange><first + n>` on an exchange picked at random for this call (never 555 nor
 * N11), for a file whose tests name their contacts by number: `phoneNo(1)`, `phoneNo(2)`, ...
 */
export function numberedPhones(first: number): (n: number) => string {
  const exchange = [...Array(700).keys()].map((i) => 200 + i).filter((e) => e !== 555 && e % 100 !== 11)[randomInt(690)];
  return (n) => `+1415${exchange}${String(first + n).padStart(4, '0')}`;
}

/** `n` numbers of block `block`: `+1415555<block>00`, `+1415555<block>01`, ... (the same every run). */
export function phoneBlock(block: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `+1415555${block}${String(i).padStart(2, '0')}`);
}

/**
 * Plays Twilio: POSTs a form to our webhook, signed as Twilio signs it (full URL plus the form fields); posting the same params again is a redelivery.
 * `deliverTo` sends the request signed for apiUrl to another API instance (e.g. one whose Temporal is unreachable).
 */
export async function postAsTwilio(apiUrl: string, pathAndQuery: string, params: Record<string, string>, authToken = TEST_AUTH_TOKEN, deliverTo = apiUrl): Promise<{ status: number; text: string; json?: any }> {
  const url = `${apiUrl}${pathAndQuery}`;
  const res = await fetch(`${deliverTo}${pathAndQuery}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** The contact's consents as GET /v1/consents answers them (contact id, messaging flag, categories, ledger), with each category's status by name. */
export interface ConsentsView {
  contactId: string;
  messaging: string;
  categories: any[];
  events: any[];
  byCategory: Record<string, string>;
  [field: string]: any;
}

export async function consentsOf(stack: TestStack, phone: string): Promise<ConsentsView> {
  const r = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  expect(r.status).toBe(200);
  return { ...r.body, byCategory: Object.fromEntries(r.body.categories.map((c: any) => [c.category, c.status])) };
}

/** Polls the contact's consents until `ready` holds; fails with what it last saw. */
export async function waitForConsents(stack: TestStack, phone: string, ready: (c: ConsentsView) => boolean, timeoutMs = 15_000): Promise<ConsentsView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await consentsOf(stack, phone);
    if (ready(c)) return c;
    if (Date.now() > until) throw new Error(`consents never got ready: ${JSON.stringify(c)}`);
    await sleep(100);
  }
}

/** Waits until the store has recorded the contact's inbound WhatsApp message: their 24-hour customer service window is open. */
export async function waitForWhatsappWindow(stack: TestStack, phone: string, { businessId = 'acme', timeoutMs = 15_000 } = {}): Promise<void> {
  await eventually(`the inbound WhatsApp message of ${phone} to be recorded`, async () => (await stack.store.contacts.findById(contactIdOf(businessId, phone)).lean())?.lastWhatsappInboundAt, timeoutMs);
}

/** Opts a contact in the ordinary way: an SMS request answered YES, until the journey is confirmed and the consents recorded. */
export async function optInBySms(stack: TestStack, phone: string, categories: string[]): Promise<void> {
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories, plan: [{ channel: 'sms', waitFor: '30s' }] });
  if (start.status !== 202) throw new Error(`journey did not start: ${JSON.stringify(start.body)}`);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
  await stack.carrier.sendInbound({ from: phone, to: '+15005550006', body: 'YES' });
  await waitForJourneyStatus(stack, start.body.journeyId, 'confirmed');
  await waitForConsents(stack, phone, (c) => categories.every((category) => c.byCategory[category] === 'opted_in'));
}
