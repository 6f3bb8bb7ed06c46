import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { freshPhones } from '../harness/contact';
import { startTestStack, TEST_AUTH_TOKEN, type TestStack } from '../harness/stack';

/**
 * Webhooks and hosted-page forms refuse an oversized body or one with too many fields before they
 * parse it or check its signature, so unauthenticated traffic cannot hold up a contact's STOP.
 */

jest.setTimeout(120_000);

const SMS_SENDER = '+15005550006';
const phoneOf = freshPhones('+1206559');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'limits' });
});
afterAll(async () => {
  await stack?.close();
});

/** A form of `n` short fields: 1.5 M of them make about 11 MB. */
const manyFields = (n: number) => Array.from({ length: n }, (_, i) => `k${i % 1000}=v`).join('&');
const ELEVEN_MB = manyFields(1_500_000);

type Answer = { status: number; text: string };

/** Posts a body unsigned; `chunked` streams it without a Content-Length, so the server can only count as it reads. */
async function postForm(path: string, body: string, opts: { chunked?: boolean; contentType?: string } = {}): Promise<Answer> {
  const bytes = Buffer.from(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
      controller.close();
    },
  });
  try {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded' },
      body: opts.chunked ? stream : body,
      ...(opts.chunked ? { duplex: 'half' } : {}),
    } as RequestInit);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    // The server answered and closed while the rest was still being sent: not an answer we can read.
    return { status: 0, text: String((err as Error).cause ?? err) };
  }
}

async function signedStop(phone: string): Promise<number> {
  const path = '/webhooks/twilio/messaging';
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: 'STOP', NumMedia: '0' };
  const signature = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, `${stack.apiUrl}${path}`, params);
  const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
  await res.arrayBuffer();
  return res.status;
}

async function messagingOf(phone: string): Promise<string> {
  const r = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  return r.body.messaging;
}

test('an unsigned 11 MB form of 1.5 M fields to the messaging webhook is refused with 413 before it is read', async () => {
  const r = await postForm('/webhooks/twilio/messaging', ELEVEN_MB);
  expect(r.status).toBe(413);
  expect(JSON.parse(r.text)).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining('4096 KB') });
});

test.each([
  ['/webhooks/twilio/messaging', 201],
  ['/webhooks/twilio/status', 201],
  ['/webhooks/twilio/voice/inbound', 201],
])('%s: a small form of more than %i fields is refused with 413, streamed or not', async (path, fields) => {
  for (const chunked of [false, true]) {
    const r = await postForm(path, manyFields(fields), { chunked });
    expect(r.status).toBe(413);
    expect(r.text).toContain('fields this endpoint takes');
  }
});

test('provider callbacks take 64 KB: a 100 KB status callback is refused with 413', async () => {
  expect((await postForm('/webhooks/twilio/status', `MessageStatus=${'x'.repeat(100 * 1024)}`)).status).toBe(413);
});

test('a webhook takes no JSON: a JSON body is refused with 415 before it is parsed', async () => {
  const r = await postForm('/webhooks/twilio/messaging', JSON.stringify(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']))), { contentType: 'application/json' });
  expect(r.status).toBe(415);
});

test('hosted-page forms: 100 KB, or 1,000 fields, get a 413 problem page', async () => {
  for (const body of [`phone=${'1'.repeat(100 * 1024)}`, manyFields(1_000)]) {
    for (const path of ['/b/acme/optin', '/c/not-a-token-but-long-enough', '/p/not-a-token-but-long-enough']) {
      const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect([path, res.status]).toEqual([path, 413]);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('Nothing was changed');
    }
  }
});

test('a signed STOP is acknowledged and blocked while hostile bodies arrive in parallel; every hostile one gets 413', async () => {
  const phone = phoneOf();
  const hostile = [
    ...Array.from({ length: 3 }, () => postForm('/webhooks/twilio/messaging', ELEVEN_MB, { chunked: true })),
    ...Array.from({ length: 3 }, () => postForm('/webhooks/twilio/messaging', manyFields(500_000))),
  ];
  const [stop, ...refused] = await Promise.all([signedStop(phone), ...hostile]);
  expect(stop).toBe(200);
  expect(await messagingOf(phone)).toBe('opted_out');
  expect(refused.map((r) => r.status)).toEqual(refused.map(() => 413));
});
