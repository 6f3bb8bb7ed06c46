import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { OptinChannel, OptinContact, OptinStatus } from '../../workflows/search-attributes';
import { deliveryReportsOf } from '../../store/delivery-reports';
import { consentsOf, numberedPhones } from '../harness/contact';
import { TEST_API_KEY, TEST_AUTH_TOKEN, startTestStack, type TestStack } from '../harness/stack';
import { waitForJourney, workflowExists } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * The API's edges: Bearer auth, 400s that name the field and the rule, Twilio signatures that must
 * match before anything changes, repeated webhook deliveries that change nothing twice, and where
 * GET /v1/journeys/:id reads from.
 */

jest.setTimeout(60_000);

/** Generous waits: these files share two cores with the servers and other test files. */
const SLOW = 30_000;

const phoneNo = numberedPhones(500);

const ACME_SMS = '+15005550006';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'apiv' });
});
afterAll(async () => {
  await stack?.close();
});

async function call(method: string, path: string, opts: { auth?: string | null; body?: unknown } = {}) {
  const auth = opts.auth === undefined ? `Bearer ${TEST_API_KEY}` : opts.auth;
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Posts a Twilio-style form; signed for `signFor` (default: the URL posted to) unless a signature is given. */
async function postWebhook(path: string, params: Record<string, string>, opts: { signature?: string | null; signFor?: string; signParams?: Record<string, string> } = {}) {
  const url = `${stack.apiUrl}${path}`;
  const signature = opts.signature === undefined ? twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, opts.signFor ?? url, opts.signParams ?? params) : opts.signature;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params),
  });
  return { status: res.status, text: await res.text() };
}

function inboundSms(from: string, body: string, messageSid = `SM${randomBytes(16).toString('hex')}`): Record<string, string> {
  return { MessageSid: messageSid, AccountSid: 'AC' + 'ab'.repeat(16), From: from, To: ACME_SMS, Body: body, NumMedia: '0' };
}

async function startSmsJourney(phone: string, categories = ['offers']) {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories, plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(r.status).toBe(202);
  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], SLOW);
  return { journeyId: r.body.journeyId as string, request };
}

async function readJourney(journeyId: string) {
  const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(r.status).toBe(200);
  return r.body;
}

describe('Bearer auth on /v1', () => {
  const valid = { businessId: 'acme', contact: { phone: phoneNo(1) }, categories: ['offers'] };

  test.each([
    ['no Authorization header', null, 'Authorization header must be "Bearer <api key>"'],
    ['a wrong key', 'Bearer not-the-key-0123456789abcdef', 'the API key is not valid'],
    ['the right key as Basic auth', `Basic ${TEST_API_KEY}`, 'Authorization header must be "Bearer <api key>"'],
  ])('%s answers 401 and starts nothing', async (_what, auth, message) => {
    const r = await call('POST', '/v1/journeys', { auth, body: valid });
    expect(r).toEqual({ status: 401, body: { error: 'unauthorized', message } });
    expect((await call('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phoneNo(1))}`, { auth })).status).toBe(401);
  });

  test('nothing reached the carrier from the refused calls', async () => {
    await sleep(300);
    expect(stack.carrier.messages({ to: phoneNo(1) })).toHaveLength(0);
  });
});

describe('400 names the field and the rule', () => {
  const base = { businessId: 'acme', contact: { phone: phoneNo(2) }, categories: ['offers'] };

  test.each([
    ['a phone number that is not one', { ...base, contact: { phone: '12' } }, 'contact.phone', /./],
    ['an unknown category', { ...base, categories: ['offers', 'horoscopes'] }, 'categories.1', /unknown category for business "acme"/],
    ['a repeated category', { ...base, categories: ['offers', 'offers'] }, 'categories', /must not repeat a category/],
    ['no category', { ...base, categories: [] }, 'categories', /must name at least one category/],
    ['an unknown business', { ...base, businessId: 'globex' }, 'businessId', /must be a configured business/],
    ['an e-mail step without an address', { ...base, plan: [{ channel: 'email', waitFor: '1d' }] }, 'contact.email', /is required when the plan uses the email channel/],
    ['a duration that is not one', { ...base, plan: [{ channel: 'sms', waitFor: '5 parsecs' }] }, 'plan.0.waitFor', /must be a duration such as "90s"/],
    ['a duration beyond 30 days', { ...base, plan: [{ channel: 'sms', waitFor: '31d' }] }, 'plan.0.waitFor', /must be between 1s and 30d/],
    ['a reminder not before the deadline', { ...base, plan: [{ channel: 'sms', waitFor: '10s', remindAfter: ['5s', '10s'] }] }, 'plan.0.remindAfter.1', /must be shorter than waitFor/],
    ['an unknown channel', { ...base, plan: [{ channel: 'fax', waitFor: '10s' }] }, 'plan.0.channel', /./],
    ['a malformed e-mail address', { ...base, contact: { phone: phoneNo(2), email: 'not-an-address' } }, 'contact.email', /must be an e-mail address/],
  ])('%s', async (_what, body, field, rule) => {
    const r = await call('POST', '/v1/journeys', { body });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_request');
    const issue = r.body.issues.find((i: any) => i.field === field);
    expect(issue).toBeDefined();
    expect(issue.rule).toMatch(rule);
    expect(r.body.message).toContain(`${field}: ${issue.rule}`);
  });

  test('query and path parameters cross their schemas too', async () => {
    const consents = await call('GET', '/v1/consents?businessId=acme&phone=call-me');
    expect(consents.status).toBe(400);
    expect(consents.body.issues[0].field).toBe('phone');
    const journey = await call('GET', '/v1/journeys/not-a-journey-id');
    expect(journey.status).toBe(400);
    expect(journey.body.message).toContain('journeyId');
  });

  test('a rejected request starts nothing', async () => {
    await sleep(300);
    expect(stack.carrier.messages({ contact: phoneNo(2) })).toHaveLength(0);
    expect(await stack.store.journeys.countDocuments({})).toBe(0);
  });
});

describe('Twilio webhooks', () => {
  test('a missing or wrong X-Twilio-Signature answers 403 and changes nothing', async () => {
    const phone = phoneNo(3);
    const { journeyId, request } = await startSmsJourney(phone);
    const stop = inboundSms(phone, 'STOP');
    const path = '/webhooks/twilio/messaging';

    expect((await postWebhook(path, stop, { signature: null })).status).toBe(403);
    expect((await postWebhook(path, stop, { signature: 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(403);
    expect((await postWebhook(path, stop, { signFor: `${stack.apiUrl}/webhooks/twilio/status` })).status).toBe(403);
    expect((await postWebhook(path, stop, { signParams: { ...stop, Body: 'hello' } })).status).toBe(403);
    const forgedFailure = { MessageSid: request.sid, MessageStatus: 'failed', ErrorCode: '30003', To: phone };
    const statusPath = new URL(request.statusCallback!).pathname + new URL(request.statusCallback!).search;
    expect((await postWebhook(statusPath, forgedFailure, { signature: null })).status).toBe(403);

    await sleep(500);
    expect(await workflowExists(stack, `optout.sms.${stop.MessageSid}`)).toBe(false);
    expect(await workflowExists(stack, `inbound.${stop.MessageSid}`)).toBe(false);
    const state = await readJourney(journeyId);
    expect(state).toMatchObject({ status: 'active', stepIndex: 0 });
    expect(state.events.filter((e: any) => e.direction === 'received' || e.kind.startsWith('status:failed'))).toHaveLength(0);
    const consents = await consentsOf(stack, phone);
    expect(consents.messaging).toBe('allowed');
    expect(consents.events).toHaveLength(0);
    expect(stack.carrier.messages({ contact: phone }).map((m) => m.sid)).toEqual([request.sid]);

    // The same message, signed as Twilio signs it, is taken: the 403s above were the signature's doing.
    const signed = await postWebhook(path, inboundSms(phone, 'yes'));
    expect(signed.status).toBe(200);
    await waitForJourney(stack, journeyId, (j) => j.status === 'confirmed', 'confirmed', SLOW);
  });

  test('a signed body that fails the schema answers 400 naming the field', async () => {
    const r = await postWebhook('/webhooks/twilio/messaging', { ...inboundSms(phoneNo(4), 'yes'), MessageSid: 'XX123' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).message).toContain('MessageSid: must be a Twilio message SID');
  });

  test('the same STOP delivered twice opts out once and confirms once', async () => {
    const phone = phoneNo(5);
    const { journeyId } = await startSmsJourney(phone, ['order_updates', 'offers']);
    const stop = inboundSms(phone, 'STOP');
    const [first, second] = [await postWebhook('/webhooks/twilio/messaging', stop), await postWebhook('/webhooks/twilio/messaging', stop)];
    expect([first.status, second.status]).toEqual([200, 200]);
    await waitForJourney(stack, journeyId, (j) => j.status === 'opted_out', 'opted_out', SLOW);
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).length === 2, SLOW);
    await sleep(1_000);
    const sent = stack.carrier.messages({ to: phone });
    expect(sent).toHaveLength(2);
    expect(sent[1].body).toContain('you are unsubscribed');
    const events = (await consentsOf(stack, phone)).events;
    expect(events.filter((e: any) => e.type === 'opted_out')).toHaveLength(3);
  });

  test('the same unknown reply delivered twice reaches the journey once', async () => {
    const phone = phoneNo(6);
    const { journeyId } = await startSmsJourney(phone);
    const maybe = inboundSms(phone, 'maybe later');
    expect((await postWebhook('/webhooks/twilio/messaging', maybe)).status).toBe(200);
    expect((await postWebhook('/webhooks/twilio/messaging', maybe)).status).toBe(200);
    const marker = inboundSms(phone, 'hmm');
    expect((await postWebhook('/webhooks/twilio/messaging', marker)).status).toBe(200);
    const state = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.providerId === marker.MessageSid), 'the marker reply', SLOW);
    expect(state.events.filter((e: any) => e.providerId === maybe.MessageSid)).toHaveLength(1);
    expect(await stack.store.inbound.countDocuments({ contactId: state.contactId })).toBe(2);
    await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
  });
});

describe('repeated status callbacks', () => {
  test('a status callback Twilio delivers again is noted once', async () => {
    const phone = phoneNo(8);
    const { journeyId, request } = await startSmsJourney(phone);
    const delivered = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0].callbacks.find((c) => c.params.MessageStatus === 'delivered'), SLOW);
    const path = new URL(delivered.url).pathname + new URL(delivered.url).search;
    // A failure report of an earlier message of this journey, delivered twice: the journey notes it once.
    const failed = { ...delivered.params, MessageSid: `SM${randomBytes(16).toString('hex')}`, MessageStatus: 'undelivered', ErrorCode: '30003' };
    expect((await postWebhook(path, failed)).status).toBe(204);
    expect((await postWebhook(path, failed)).status).toBe(204);
    expect((await postWebhook(path, delivered.params)).status).toBe(204);
    const marker = inboundSms(phone, 'hmm');
    await postWebhook('/webhooks/twilio/messaging', marker);
    const state = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.providerId === marker.MessageSid), 'the marker reply', SLOW);
    expect(state.events.filter((e: any) => e.providerId === failed.MessageSid && e.kind === 'status:undelivered')).toHaveLength(1);
    // "delivered" changes nothing in a journey: kept once in the store for the audit trail, not a workflow task.
    expect(state.events.filter((e: any) => e.kind === 'status:delivered')).toEqual([]);
    expect((await deliveryReportsOf(stack.store, request.sid)).map((r) => r.status)).toEqual(['delivered']);
    // "sent" is on the way to "delivered": acknowledged, but not passed to the journey as a workflow task.
    expect(stack.carrier.messages({ to: phone })[0].callbacks.some((c) => c.params.MessageStatus === 'sent')).toBe(true);
    expect(state.events.filter((e: any) => e.kind === 'status:sent')).toEqual([]);
    await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
  });
});

describe('GET /v1/journeys/:id', () => {
  test('answers from the workflow while it runs and from the store after it ended', async () => {
    const phone = phoneNo(7);
    const { journeyId, request } = await startSmsJourney(phone);
    const running = await readJourney(journeyId);
    expect(running).toMatchObject({ journeyId, status: 'active', source: 'workflow', channel: 'sms', stepIndex: 0 });

    await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'no thanks' });
    const ended = await waitForJourney(stack, journeyId, (j) => j.source === 'store', 'the store', SLOW);
    expect(ended).toMatchObject({ journeyId, status: 'declined', outcome: { status: 'declined' } });
    expect(ended.events.find((e: any) => e.kind === 'request:sent')).toMatchObject({ providerId: request.sid });
    const stored = await stack.store.journeys.findById(journeyId).lean();
    expect(stored?.status).toBe('declined');
    const described = await stack.client.workflow.getHandle(stored!.workflowId, stored!.runId).describe();
    expect(described.typedSearchAttributes.get(OptinStatus)).toBe('declined');
    expect(described.typedSearchAttributes.get(OptinChannel)).toBe('sms');
    expect(described.typedSearchAttributes.get(OptinContact)).toBe(stored!.contactId);

    const unknownRun = journeyId.replace(/[0-9a-f]{12}$/, '000000000000');
    expect((await stack.request('GET', `/v1/journeys/${unknownRun}`)).status).toBe(404);
  });
});
