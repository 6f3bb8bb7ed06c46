import { randomInt } from 'node:crypto';
import twilio from 'twilio';
import { TEST_AUTH_TOKEN, type TestStack } from './stack';

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

/** Plays Twilio: POSTs a form to our webhook, signed as Twilio signs it (full URL plus the form fields); posting the same params again is a redelivery. */
export async function postAsTwilio(apiUrl: string, pathAndQuery: string, params: Record<string, string>, authToken = TEST_AUTH_TOKEN): Promise<{ status: number; text: string; json?: any }> {
  const url = `${apiUrl}${pathAndQuery}`;
  const res = await fetch(url, {
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

/** The contact's consents, ledger and messaging flag as GET /v1/consents answers them. */
export async function consentsOf(stack: TestStack, phone: string) {
  const r = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Polls the contact's consents until `ready` holds; fails with what it last saw. */
export async function waitForConsents(stack: TestStack, phone: string, ready: (c: any) => boolean, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await consentsOf(stack, phone);
    if (ready(c)) return c;
    if (Date.now() > until) throw new Error(`consents never got ready: ${JSON.stringify(c)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
