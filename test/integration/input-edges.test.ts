import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { pageLinks } from '../../lib/page-links';
import { contactIdOf } from '../../store/models';
import { freshPhones } from '../harness/contact';
import { startTestStack, TEST_AUTH_TOKEN, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';

/**
 * The API's edges under odd input: a malformed id in a signed callback URL is a 400 naming it, a
 * huge signed message is handled, a 400 never echoes megabytes back, an over-long page link gets the
 * problem page, and nothing is answered without X-Content-Type-Options: nosniff.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+15005550006';
const phoneOf = freshPhones('+1206560');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'edges' });
});
afterAll(async () => {
  await stack?.close();
});

/** Posts a form signed as Twilio signs it (the full URL, query included, plus the fields). */
async function postSigned(pathAndQuery: string, params: Record<string, string>): Promise<Response> {
  const url = `${stack.apiUrl}${pathAndQuery}`;
  const signature = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, params);
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
}

const RUN = '0b7e4c2a-3f1d-4e5a-9c8b-7a6d5e4f3a2b';
const contactId = contactIdOf('acme', '+12065600000');
const statusParams = { MessageSid: `SM${'0'.repeat(32)}`, MessageStatus: 'delivered', To: '+12065600000', From: SMS_SENDER };

test.each([
  ['run', `wf=journey.acme.${contactId}&run=not-a-run-id&b=acme&c=${contactId}`],
  ['wf', `wf=${'w'.repeat(2_000)}&run=${RUN}&b=acme&c=${contactId}`],
  ['b', `wf=journey.acme.${contactId}&run=${RUN}&b=ACME%20Inc&c=${contactId}`],
  ['c', `wf=journey.acme.${contactId}&run=${RUN}&b=acme&c=someone`],
])('a signed status callback with a malformed %s is a 400 naming it', async (field, query) => {
  const res = await postSigned(`/webhooks/twilio/status?${query}`, statusParams);
  expect(res.status).toBe(400);
  const body = (await res.json()) as any;
  expect(body.issues).toEqual([expect.objectContaining({ field, rule: expect.any(String) })]);
  expect(JSON.stringify(body).length).toBeLessThan(2_000);
});

test('a signed key press whose callback URL has a malformed run is a 400 naming it', async () => {
  const res = await postSigned(`/webhooks/twilio/voice/gather?wf=journey.acme.${contactId}&run=nope&step=0&b=acme&cats=offers`, { CallSid: `CA${'0'.repeat(32)}`, Digits: '1', To: '+12065600000' });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).issues[0]).toMatchObject({ field: 'run' });
});

test('a signed 3 MB message that is not an opt-out is acknowledged and kept', async () => {
  const phone = phoneOf();
  const MessageSid = `SM${randomBytes(16).toString('hex')}`;
  const res = await postSigned('/webhooks/twilio/messaging', { MessageSid, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: 'hello', NumMedia: '1', MediaUrl0: `https://example.com/${'m'.repeat(3 * 1024 * 1024)}` });
  expect(res.status).toBe(200);
  const kept = await stack.carrier.waitFor(() => stack.store.inbound.findById(MessageSid).lean(), 20_000);
  expect(kept).toMatchObject({ from: phone, routedTo: 'no_running_journey' });
});

test('a signed message whose 3 MB Body breaks the rule is a 400 that echoes at most 100 characters of it', async () => {
  const res = await postSigned('/webhooks/twilio/messaging', { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: `AC${'ab'.repeat(16)}`, From: phoneOf(), To: SMS_SENDER, Body: 'b'.repeat(3 * 1024 * 1024) });
  expect(res.status).toBe(400);
  const text = await res.text();
  expect(text.length).toBeLessThan(2_000);
  expect(JSON.parse(text).issues[0]).toMatchObject({ field: 'Body', value: expect.stringContaining('3145728 characters') });
});

test('a 400 for bad categories echoes at most 100 characters of each: a 10 MB request gets a small answer', async () => {
  const huge = 'h'.repeat(10 * 1024 * 1024 - 200);
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: phoneOf() }, categories: ['offers', huge] });
  expect(r.status).toBe(400);
  expect(JSON.stringify(r.body).length).toBeLessThan(2_000);
  const issue = r.body.issues.find((i: any) => i.field === 'categories.1');
  expect(issue.value.length).toBeLessThanOrEqual(130);
  expect(issue.value.startsWith('h'.repeat(50))).toBe(true);
});

test('a page link whose token is over 4 KB gets the problem page with the page headers', async () => {
  const token = 'x'.repeat(5_000);
  for (const path of [`/c/${token}`, `/u/${token}`, `/p/${token}`]) {
    const res = await fetch(`${stack.apiUrl}${path}`);
    expect([path, res.status]).toEqual([path, 414]);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain('This link is not valid');
    expect(html).not.toContain(token);
  }
  const api = await stack.request('GET', `/v1/journeys/${token}`);
  expect(api.status).toBe(414);
  expect(JSON.stringify(api.body)).not.toContain(token);
});

test('every answer says X-Content-Type-Options: nosniff: pages, problem pages, JSON, errors, webhooks', async () => {
  const phone = phoneOf();
  await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'] });
  const unsubscribe = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).unsubscribe('acme', contactIdOf('acme', phone));
  const answers = await Promise.all([
    fetch(unsubscribe),
    fetch(`${stack.apiUrl}/c/not-a-valid-token-at-all`),
    fetch(`${stack.apiUrl}/b/acme/optin`),
    fetch(`${stack.apiUrl}/healthz`),
    fetch(`${stack.apiUrl}/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`, { headers: { authorization: `Bearer ${stack.apiKey}` } }),
    fetch(`${stack.apiUrl}/v1/consents`),
    fetch(`${stack.apiUrl}/no/such/route`),
    fetch(`${stack.apiUrl}/webhooks/twilio/messaging`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }),
  ]);
  expect(answers.map((r) => [r.url.slice(0, 60), r.status > 0, r.headers.get('x-content-type-options')])).toEqual(answers.map((r) => [r.url.slice(0, 60), true, 'nosniff']));
});
