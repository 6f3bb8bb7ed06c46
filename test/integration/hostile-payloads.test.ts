import { createHash, randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { pageLinks } from '../../lib/page-links';
import { startPendingOptOuts } from '../../services/optouts';
import { contactIdOf } from '../../store/models';
import { upsertContact } from '../../store/queries';
import { freshPhones } from '../harness/contact';
import { startCutOffApi } from '../harness/cut-off-api';
import { startTestStack, TEST_AUTH_TOKEN, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

/**
 * What a contact sends is kept as proof, whatever its size or field names: an oversized value or a
 * field MongoDB refuses as a key ($where, a.b) never leaves an opt-out or a reply unrecorded, and
 * never holds up other opt-outs kept while Temporal was down.
 */

jest.setTimeout(120_000);

const SMS_SENDER = '+15005550006';
const WA_SENDER = 'whatsapp:+15005550007';
const ALL = ['offers', 'order_updates', 'recommendations'];
const THREE_MB = 'x'.repeat(3 * 1024 * 1024);
const phoneOf = freshPhones('+1206558');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'hostile' });
});
afterAll(async () => {
  await stack?.close();
});

const serviceDeps = () => ({ client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: TEST_PAGE_SECRET });
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

function inbound(from: string, to: string, body: string, extra: Record<string, string> = {}): Record<string, string> {
  return { MessageSid: messageSid(), AccountSid: `AC${'ab'.repeat(16)}`, From: from, To: to, Body: body, NumMedia: '0', ...extra };
}

/** Posts an inbound message signed as Twilio signs it for the stack's public URL, to that API or to `deliverTo`. */
async function postInbound(params: Record<string, string>, deliverTo = stack.apiUrl): Promise<number> {
  const path = '/webhooks/twilio/messaging';
  const signature = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, `${stack.apiUrl}${path}`, params);
  const res = await fetch(`${deliverTo}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
  await res.arrayBuffer();
  return res.status;
}

async function consentsOf(phone: string) {
  const r = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Waits until every category has its opt-out event; returns the events. */
async function optedOutOfAll(phone: string, timeoutMs = 30_000): Promise<any[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await consentsOf(phone);
    const events = c.events.filter((e: any) => e.type === 'opted_out');
    if (events.length === ALL.length) return events;
    if (Date.now() > until) throw new Error(`no opt-out recorded for ${phone}: ${JSON.stringify(c).slice(0, 2000)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const confirmation = (phone: string) => stack.carrier.waitFor(() => stack.carrier.messages({ contact: phone }).find((m) => m.direction !== 'inbound' && m.renderedText.includes('you are unsubscribed')), 20_000);

test('a signed WhatsApp STOP with a 3 MB ProfileName: opted out with bounded proof, confirmed on WhatsApp', async () => {
  const phone = phoneOf();
  const params = inbound(`whatsapp:${phone}`, WA_SENDER, 'STOP', { ProfileName: THREE_MB, WaId: phone.slice(1) });
  expect(await postInbound(params)).toBe(200);

  const events = await optedOutOfAll(phone);
  expect(events[0].proof.inbound.MessageSid).toBe(params.MessageSid);
  expect(JSON.stringify(events[0].proof).length).toBeLessThan(100_000);
  // The whole payload is kept by reference: the cut value keeps its length and the hash of all of it.
  const stored = await stack.store.connection.collection('payloads').findOne({ _id: events[0].proof.inboundRef });
  expect(stored?.fields.find((f: any) => f.name === 'ProfileName')).toMatchObject({ length: THREE_MB.length, sha256: createHash('sha256').update(THREE_MB).digest('hex') });
  expect((await confirmation(phone)).channel).toBe('whatsapp');
  expect(await stack.store.connection.collection('optout_pending').countDocuments({ 'input.phone': phone })).toBe(0);
});

test('a signed STOP with fields named $where and a.b: opted out, the fields kept in the proof, confirmed by SMS', async () => {
  const phone = phoneOf();
  const params = inbound(phone, SMS_SENDER, 'STOP', { $where: 'sleep(100)', 'a.b': 'dotted', '$set.x': 'both' });
  expect(await postInbound(params)).toBe(200);

  const events = await optedOutOfAll(phone);
  expect(JSON.stringify(events[0].proof.inbound)).toEqual(expect.stringContaining('sleep(100)'));
  expect(JSON.stringify(events[0].proof.inbound)).toEqual(expect.stringContaining('dotted'));
  expect((await confirmation(phone)).channel).toBe('sms');
});

test('a reply YES with a 3 MB ProfileName and a $where field reaches the journey and is recorded', async () => {
  const phone = phoneOf();
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '30s' }] });
  expect(start.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ contact: phone }).find((m) => m.direction !== 'inbound'), 20_000);

  const params = inbound(`whatsapp:${phone}`, WA_SENDER, 'YES', { ProfileName: THREE_MB, $where: '1', 'a.b': '2' });
  expect(await postInbound(params)).toBe(200);

  await waitForJourneyStatus(stack, start.body.journeyId, 'confirmed', 30_000);
  const kept = await stack.carrier.waitFor(() => stack.store.inbound.findById(params.MessageSid).lean(), 20_000);
  expect(kept).toMatchObject({ routedTo: 'journey' });
  expect(JSON.stringify(kept).length).toBeLessThan(100_000);
  const optIn = (await consentsOf(phone)).events.find((e: any) => e.type === 'opted_in');
  expect(optIn.proof.inbound.MessageSid).toBe(params.MessageSid);
});

test('one-click unsubscribe with a 3 MB pad: unsubscribed, the opt-out recorded', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  await upsertContact(stack.store, { businessId: 'acme', contactId, phone, email: 'pad@example.com' });
  const link = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).unsubscribe('acme', contactId);
  const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `List-Unsubscribe=One-Click&pad=${THREE_MB}` });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('You are unsubscribed');

  const events = await optedOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ channel: 'email', method: 'unsubscribe_link' });
  expect(JSON.stringify(events[0].proof).length).toBeLessThan(100_000);
});

test('Temporal down: a 3 MB STOP and a $where STOP kept in the store do not hold up a plain STOP; one sweep starts all three', async () => {
  const [huge, dollar, plain] = [phoneOf(), phoneOf(), phoneOf()];
  const unreachable = await startCutOffApi(stack);
  try {
    const deliverTo = unreachable.url;
    expect(await postInbound(inbound(huge, SMS_SENDER, 'STOP', { ProfileName: THREE_MB }), deliverTo)).toBe(200);
    expect(await postInbound(inbound(dollar, SMS_SENDER, 'STOP', { $where: '1' }), deliverTo)).toBe(200);
    expect(await postInbound(inbound(plain, SMS_SENDER, 'STOP'), deliverTo)).toBe(200);
  } finally {
    await unreachable.close();
  }
  const swept = await startPendingOptOuts(serviceDeps(), stack.api.log);
  expect(swept.failed).toBe(0);
  for (const phone of [plain, huge, dollar]) await optedOutOfAll(phone);
  expect(await stack.store.connection.collection('optout_pending').countDocuments({ 'input.phone': { $in: [huge, dollar, plain] } })).toBe(0);
});
