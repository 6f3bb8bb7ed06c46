import { randomBytes } from 'node:crypto';
import type { CarrierMessage } from '../../dev/carrier/types';
import { verifyPageToken } from '../../lib/tokens';
import { JOURNEY_WORKFLOW_TYPE, journeyWorkflowId, type JourneyInput, type JourneyState } from '../../workflows/journey/contract';
import { consentsOf, optInBySms, postAsTwilio } from '../harness/contact';
import { startTestStack, TEST_ACCOUNT_SID, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { workflowExists } from '../harness/stack-queries';
import { eventually, sleep } from '../harness/wait';

/** What an opt-out promises beyond reaching the path: once per request, the gate, opting back in, HELP, input rules. */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
const WA_SENDER = 'whatsapp:+15005550007';
const BUSINESS_NAME = 'Acme Outdoor Supplies';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'oorules' });
});
afterAll(async () => {
  await stack?.close();
});

const outbound = (phone: string): CarrierMessage[] => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');
const confirmations = (phone: string) => outbound(phone).filter((m) => m.renderedText.includes('you are unsubscribed'));

test('a repeated delivery of the same STOP is a no-op: one set of events, one confirmation', async () => {
  const phone = '+14155550301';
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'Stop' };
  expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)).status).toBe(200);
  await stack.carrier.waitFor(() => confirmations(phone)[0], 10_000);
  const again = await Promise.all([postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params), postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)]);
  expect(again.map((r) => r.status)).toEqual([200, 200]);
  await sleep(1_000);
  const c = await consentsOf(stack, phone);
  expect(c.events.filter((e: any) => e.type === 'opted_out')).toHaveLength(3);
  expect(confirmations(phone)).toHaveLength(1);
});

test('the send gate refuses an opted-out contact and records the refusal in the outbox', async () => {
  const phone = '+14155550302';
  await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, reason: 'asked by phone', source: { kind: 'agent' } });
  const { contactId } = await consentsOf(stack, phone);
  // A journey that got past the API's check (a campaign racing the opt-out) still sends nothing.
  const input: JourneyInput = { businessId: 'acme', contactId, contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitForMs: 5_000, remindAfterMs: [] }], requestedAt: new Date().toISOString() };
  const state: JourneyState = await stack.client.workflow.execute(JOURNEY_WORKFLOW_TYPE, { workflowId: journeyWorkflowId('acme', contactId), taskQueue: stack.taskQueue, args: [input] });
  expect(state.status).toBe('opted_out');
  expect(outbound(phone)).toHaveLength(0);
  const rows = await stack.store.outbox.find({ contactId }).lean();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: 'refused', purpose: 'request', channel: 'sms' });
  expect(rows[0].reason).toContain('opted out');
});

test('a new journey for an opted-out contact is refused with 409 and a clear reason', async () => {
  const phone = '+14155550303';
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOPALL' });
  await eventually('opt-out', async () => (await consentsOf(stack, phone)).messaging === 'opted_out');
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(r.status).toBe(409);
  expect(r.body).toMatchObject({ error: 'contact_opted_out' });
  expect(r.body.message).toContain('opted out');
});

test('POST /v1/optouts with some categories leaves the others alone and blocks nothing', async () => {
  const phone = '+14155550304';
  await optInBySms(stack, phone, ['order_updates', 'offers']);
  const r = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, categories: ['offers'], reason: 'too many offers', source: { kind: 'api' }, requestId: 'crm-7781' });
  expect(r.status).toBe(202);
  expect(r.body).toMatchObject({ progress: 'accepted', categories: ['offers'] });
  const repeat = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, categories: ['offers'], reason: 'too many offers', source: { kind: 'api' }, requestId: 'crm-7781' });
  expect(repeat.status).toBe(200);
  expect(repeat.body.existing).toBe(true);
  const c = await eventually('opt-out recorded', async () => {
    const x = await consentsOf(stack, phone);
    return x.byCategory.offers === 'opted_out' && x;
  });
  expect(c.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', recommendations: 'none' });
  expect(c.messaging).toBe('allowed');
  expect(c.events.filter((e: any) => e.type === 'opted_out')).toHaveLength(1);
});

test.each([
  [{ phone: '12', reason: 'x', source: { kind: 'api' } }, 'phone'],
  [{ phone: '+14155550305', categories: ['newsletters'], reason: 'x', source: { kind: 'api' } }, 'categories.0'],
  [{ phone: '+14155550305', source: { kind: 'api' } }, 'reason'],
  [{ phone: '+14155550305', reason: 'x', source: { kind: 'fax' } }, 'source.kind'],
  [{ phone: '+14155550305', categories: [], reason: 'x', source: { kind: 'api' } }, 'categories'],
])('POST /v1/optouts rejects bad input naming the field: %j', async (body, field) => {
  const r = await stack.request('POST', '/v1/optouts', { businessId: 'acme', ...body });
  expect(r.status).toBe(400);
  expect(r.body.message).toContain(`${field}:`);
});

test('START from an opted-out contact lifts the block, restores what they had agreed to, and confirms naming the business', async () => {
  const phone = '+14155550306';
  await optInBySms(stack, phone, ['offers']);
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  // The opt-out is wholly recorded once every category shows it (its ledger events are written, and linked, before that).
  await eventually('opt-out', async () => {
    const c = await consentsOf(stack, phone);
    return c.events.filter((e: any) => e.type === 'opted_out').length === 3 && Object.values(c.byCategory).every((s) => s === 'opted_out');
  });

  const r = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'START' });
  expect(r.status).toBe(200);
  const reply = await stack.carrier.waitFor(() => outbound(phone).find((m) => m.body.includes('receive messages from us again')), 10_000);
  expect(reply.body).toContain(BUSINESS_NAME);
  expect(reply.body).toContain('STOP');
  const c = await consentsOf(stack, phone);
  expect(c.messaging).toBe('allowed');
  expect(c.byCategory).toEqual({ order_updates: 'opted_out', offers: 'opted_in', recommendations: 'opted_out' });
  const again = c.events.filter((e: any) => e.type === 'opted_in' && e.proof.method === 'keyword_start');
  expect(again.map((e: any) => e.category)).toEqual(['offers']);
  expect(again[0].proof.providerId).toBe(r.messageSid);
  const resumed = c.events.filter((e: any) => e.type === 'messaging_resumed');
  expect(resumed).toHaveLength(1);
  expect(resumed[0]).toMatchObject({ category: '*', proof: { method: 'keyword_start', providerId: r.messageSid, restored: ['offers'] } });

  const journey = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['recommendations'], plan: [{ channel: 'sms', waitFor: '5s' }] });
  expect(journey.status).toBe(202);
});

test('UNSTOP on WhatsApp from a contact who never agreed to anything lifts the block, restores nothing, then asks which messages', async () => {
  const phone = '+14155550307';
  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: WA_SENDER, body: 'STOP' });
  // The block shows at once; wait for the ledger as well, so UNSTOP comes after the whole opt-out.
  await eventually('opt-out', async () => {
    const c = await consentsOf(stack, phone);
    return c.messaging === 'opted_out' && Object.values(c.byCategory).every((s) => s === 'opted_out');
  });
  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: WA_SENDER, body: 'UNSTOP' });
  const reply = await stack.carrier.waitFor(() => outbound(phone).find((m) => m.renderedText.includes('receive messages from us again')), 10_000);
  expect(reply.channel).toBe('whatsapp');
  const c = await consentsOf(stack, phone);
  expect(c.messaging).toBe('allowed');
  expect(c.byCategory).toEqual({ order_updates: 'opted_out', offers: 'opted_out', recommendations: 'opted_out' });
  expect(c.events.filter((e: any) => e.type === 'opted_in')).toEqual([]);
  expect(c.events.filter((e: any) => e.type === 'messaging_resumed').map((e: any) => e.proof.restored)).toEqual([[]]);
  // Nothing came back, so the thread goes on with the category question (docs/optin-methods.md).
  const question = await stack.carrier.waitFor(() => outbound(phone).find((m) => m.renderedText.includes('which messages would you like')), 10_000);
  expect(question.channel).toBe('whatsapp');
});

test('HELP gets a reply naming the business, how to opt out, and a link to the preference page', async () => {
  const phone = '+14155550308';
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'HELP' });
  const reply = await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  expect(reply.body).toContain(BUSINESS_NAME);
  expect(reply.body).toContain('STOP');
  const link = /(http:\/\/127\.0\.0\.1:\d+)\/p\/(\S+)/.exec(reply.body);
  expect(link?.[1]).toBe(stack.apiUrl);
  const check = verifyPageToken(TEST_PAGE_SECRET, link![2], 'preferences');
  expect(check.ok && check.payload).toMatchObject({ b: 'acme', c: (await consentsOf(stack, phone)).contactId });
});

test('HELP from an opted-out contact is still answered, as carriers expect; nothing else reaches them', async () => {
  const phone = '+14155550318';
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'HELP' });
  const help = await stack.carrier.waitFor(() => outbound(phone)[1], 10_000);
  expect(help.body).toContain(BUSINESS_NAME);
  expect((await consentsOf(stack, phone)).messaging).toBe('opted_out');
  await sleep(1_500);
  expect(outbound(phone)).toHaveLength(2);
});

test('a STOP from a contact already opted out is kept, but starts no second opt-out and sends no second confirmation', async () => {
  const phone = '+14155550319';
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  await eventually('opt-out recorded', async () => (await consentsOf(stack, phone)).events.some((e: any) => e.type === 'opted_out'));
  const events = (await consentsOf(stack, phone)).events.length;
  const again = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(again.status).toBe(200);
  expect(await stack.store.inbound.findById(again.messageSid).lean()).toMatchObject({ intent: 'opt_out', routedTo: 'already_opted_out' });
  await sleep(1_500);
  expect(outbound(phone)).toHaveLength(1);
  expect((await consentsOf(stack, phone)).events).toHaveLength(events);
  expect(await workflowExists(stack, `optout.sms.${again.messageSid}`)).toBe(false);
});

test('with no worker the STOP is blocked, in the ledger and acknowledged at once; the confirmation follows once a worker runs', async () => {
  const phone = '+14155550309';
  // Shut the worker down but leave its connection to stack.close().
  const stopped = stack.worker!.worker;
  stopped.shutdown();
  await eventually('worker stopped', async () => stopped.getState() === 'STOPPED');
  const started = Date.now();
  const r = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(r.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(3_000);
  const blocked = await consentsOf(stack, phone);
  expect(blocked.messaging).toBe('opted_out');
  expect(blocked.events.map((e: any) => e.type)).toEqual(['opted_out', 'opted_out', 'opted_out']);
  expect(confirmations(phone)).toHaveLength(0);

  stack.worker = await stack.startWorker();
  await stack.carrier.waitFor(() => confirmations(phone)[0], 15_000);
  expect((await consentsOf(stack, phone)).events.filter((e: any) => e.type === 'opted_out')).toHaveLength(3);
});
