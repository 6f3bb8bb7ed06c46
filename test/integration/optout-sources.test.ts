import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { CarrierMessage } from '../../dev/carrier/types';
import { startPendingOptOuts } from '../../services/optouts';
import { consentsOf, postAsTwilio, waitForConsents, type ConsentsView } from '../harness/contact';
import { startCutOffApi } from '../harness/cut-off-api';
import { startTestStack, TEST_AUTH_TOKEN, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';
import { parseJourneyId } from '../../workflows/journey/contract';

/** Every way a contact or a system can opt out reaches the one opt-out path and ends the running journey. */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
const WA_SENDER = 'whatsapp:+15005550007';
const BUSINESS_NAME = 'Acme Outdoor Supplies';
const ALL = ['offers', 'order_updates', 'recommendations'];

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'oosrc' });
});
afterAll(async () => {
  await stack?.close();
});

type Plan = { channel: string; waitFor: string; remindAfter?: string[] }[];

async function startJourney(phone: string, plan: Plan, email?: string): Promise<string> {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone, ...(email ? { email } : {}) }, categories: ['offers'], plan });
  expect(r.status).toBe(202);
  return r.body.journeyId;
}

const optOutEvents = (c: ConsentsView): any[] => c.events.filter((e: any) => e.type === 'opted_out');

/** Waits until every category is opted out; returns the opt-out events. */
async function waitForOptOutOfAll(phone: string): Promise<any[]> {
  const optedOut = await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && optOutEvents(c).length === ALL.length && c.categories.every((x: any) => x.status === 'opted_out'), 20_000);
  return optOutEvents(optedOut);
}

const outbound = (phone: string): CarrierMessage[] => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');
const confirmations = (phone: string) => outbound(phone).filter((m) => m.renderedText.includes('you are unsubscribed'));

test('SMS STOP with a running journey: journey ended, every category opted out with proof, one SMS confirmation', async () => {
  const phone = '+14155550201';
  const journeyId = await startJourney(phone, [{ channel: 'sms', waitFor: '30s' }]);
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);

  const inbound = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(inbound.status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events.map((e) => e.category).sort()).toEqual(ALL);
  expect(events[0].proof).toMatchObject({ method: 'keyword', channel: 'sms', text: 'STOP', businessName: BUSINESS_NAME, allCategories: true });
  expect(events[0].proof.inbound.MessageSid).toBe(inbound.messageSid);

  const confirmation = await stack.carrier.waitFor(() => confirmations(phone)[0], 10_000);
  expect(confirmation.channel).toBe('sms');
  expect(confirmation.body).toContain(BUSINESS_NAME);
  expect(confirmation.body).toContain('START');
  await sleep(500);
  expect(confirmations(phone)).toHaveLength(1);
});

test('WhatsApp keyword with no journey: opted out, confirmed once on WhatsApp with the approved template', async () => {
  const phone = '+14155550202';
  const r = await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: WA_SENDER, body: 'unsubscribe' });
  expect(r.status).toBe(200);
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ channel: 'whatsapp', text: 'unsubscribe' });
  const confirmation = await stack.carrier.waitFor(() => confirmations(phone)[0], 10_000);
  expect(confirmation.channel).toBe('whatsapp');
  expect(confirmation.contentSid).toBeTruthy();
  expect(confirmation.renderedText).toContain(BUSINESS_NAME);
});

test('WhatsApp stop button ends a WhatsApp journey', async () => {
  const phone = '+14155550203';
  const journeyId = await startJourney(phone, [{ channel: 'whatsapp', waitFor: '30s' }]);
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  const r = await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: WA_SENDER, buttonPayload: 'stop', buttonText: 'Stop' });
  expect(r.status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ method: 'whatsapp_button', channel: 'whatsapp' });
  await stack.carrier.waitFor(() => confirmations(phone)[0], 10_000);
});

test.each([
  ['ARRÊT', 'sms', '+33612345670'],
  ['BAJA', 'whatsapp', '+34612345671'],
])('localised keyword %s over %s reaches the opt-out path', async (word, channel, phone) => {
  const r = channel === 'sms' ? await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: word }) : await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: WA_SENDER, body: word });
  expect(r.status).toBe(200);
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ channel, text: word });
  await stack.carrier.waitFor(() => confirmations(phone)[0], 10_000);
});

test('IVR: the call says to press 9; pressing it ends the journey and opts out, confirmed in the call itself', async () => {
  const phone = '+14155550204';
  const journeyId = await startJourney(phone, [{ channel: 'ivr', waitFor: '30s' }]);
  const call = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), 10_000);
  expect(call.transcript.map((t) => t.text).join(' ')).toContain(`Press 9 to stop all messages from ${BUSINESS_NAME}`);

  const after = await stack.carrier.pressKeys(call.sid, '9');
  expect(after.transcript.map((t) => t.text).join(' ')).toContain(`You will receive no more messages from ${BUSINESS_NAME}`);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ method: 'ivr_keypress', channel: 'ivr', reference: call.sid });
  expect(confirmations(phone)).toHaveLength(0);
});

test('e-mail: List-Unsubscribe with List-Unsubscribe-Post, and RFC 8058 one-click ends the journey', async () => {
  const phone = '+14155550205';
  const email = 'oneclick@example.com';
  const journeyId = await startJourney(phone, [{ channel: 'email', waitFor: '30s' }], email);
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 10_000);
  expect(mail.headers['list-unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/u\/[^>]+>$/);
  expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

  const r = await stack.carrier.oneClickUnsubscribe(mail.id);
  expect(r.status).toBe(200);
  // Blocked before the answer, as for a STOP: not only once the workflow's first activity has run.
  expect((await consentsOf(stack, phone)).messaging).toBe('opted_out');
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ channel: 'email' });
});

test('POST /v1/optouts (an agent) ends the journey and answers once the contact is blocked', async () => {
  const phone = '+14155550206';
  const journeyId = await startJourney(phone, [{ channel: 'sms', waitFor: '30s' }]);
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  const r = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, reason: 'asked the support agent to stop all messages', source: { kind: 'agent', reference: 'ticket-42' }, requestId: 'ticket-42-optout' });
  expect(r.status).toBe(202);
  expect(r.body).toMatchObject({ existing: false, progress: 'blocked', categories: 'all' });
  const c = await consentsOf(stack, phone);
  expect(c.messaging).toBe('opted_out');
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ method: 'agent', channel: 'agent', reference: 'ticket-42' });
  expect(confirmations(phone)).toHaveLength(0);
});

test('provider: a status callback with error 21610 ends the journey', async () => {
  const phone = '+14155550207';
  const journeyId = await startJourney(phone, [{ channel: 'sms', waitFor: '30s' }]);
  await stack.carrier.waitFor(() => outbound(phone)[0], 10_000);
  const { contactId } = await consentsOf(stack, phone);
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, MessageStatus: 'undelivered', ErrorCode: '21610', To: phone, From: SMS_SENDER };
  const res = await postAsTwilio(stack.apiUrl, `/webhooks/twilio/status?b=acme&c=${contactId}`, params);
  expect(res.status).toBe(204);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ method: 'provider', channel: 'provider', reference: params.MessageSid });
});

test('provider: a send refused with 21610 starts the opt-out, and the next step is refused by the gate', async () => {
  const phone = '+14155550208';
  stack.carrier.setRecipientBehaviour(phone, { unsubscribed: true });
  const journeyId = await startJourney(phone, [
    { channel: 'sms', waitFor: '30s' },
    { channel: 'whatsapp', waitFor: '30s' },
  ]);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  // The opt-out closes the journey's record as soon as it starts; the events are the run's own, once it ends.
  const ids = parseJourneyId(journeyId)!;
  const done = await stack.client.workflow.getHandle(ids.workflowId, ids.runId).result();
  expect(done.status).toBe('opted_out');
  // Two orders are possible. The SMS request's failure reaches the journey and the WhatsApp step is
  // refused by the gate; or the opt-out's signal arrives while the journey's first workflow task
  // (whose local activity sent the request) is still open, the server refuses that task's completion,
  // and the request, run again, is refused by the gate before the provider is asked again.
  const smsFailed = done.events.some((e: { kind: string; channel?: string }) => e.kind === 'request:failed' && e.channel === 'sms');
  const refusedSteps = done.events.filter((e: { kind: string }) => e.kind === 'request:refused').map((e: { channel?: string }) => e.channel);
  expect(refusedSteps).toEqual([smsFailed ? 'whatsapp' : 'sms']);
  const events = await waitForOptOutOfAll(phone);
  expect(events[0].proof).toMatchObject({ method: 'provider', channel: 'provider' });
  expect(events[0].proof.reason).toContain('21610');
  expect(outbound(phone)).toHaveLength(0);
  const rows = await stack.store.outbox.find({ contactId: done.contactId }).lean();
  // Either way the store holds what each send did the first time: the refused task had got as far as the WhatsApp step.
  expect(rows.map((r) => [r.channel, r.status, r.errorCode ?? null])).toEqual([
    ['sms', 'failed', 21610],
    ['whatsapp', 'refused', null],
  ]);
});

test('Temporal unreachable: the STOP is still acknowledged, blocked and kept in the store; the sweep starts its workflow later', async () => {
  const phone = '+14155550219';
  const unreachable = await startCutOffApi(stack);
  try {
    const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: 'STOP', NumMedia: '0' };
    // Signed for the public URL, as Twilio would; delivered to the API whose Temporal is down.
    const signature = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, `${stack.apiUrl}/webhooks/twilio/messaging`, params);
    const res = await fetch(`${unreachable.url}/webhooks/twilio/messaging`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
    expect(res.status).toBe(200);
    const atAnswer = await consentsOf(stack, phone);
    expect(atAnswer.messaging).toBe('opted_out');
    // In the ledger already: the acknowledgement wrote it, with no workflow running.
    expect(optOutEvents(atAnswer).map((e) => e.category).sort()).toEqual(ALL);
    const kept = await stack.store.connection.collection('optout_pending').find({}).toArray();
    expect(kept.map((d: any) => d.input.origin)).toContain(`sms.${params.MessageSid}`);
  } finally {
    await unreachable.close();
  }
  // The sweep of an API that reaches Temporal (this call, or the stack API's own every 10 s): the workflow runs, the ledger and the one confirmation follow.
  await startPendingOptOuts({ client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: TEST_PAGE_SECRET }, stack.api.log);
  await waitForOptOutOfAll(phone);
  await stack.carrier.waitFor(() => confirmations(phone)[0], 15_000);
  expect(confirmations(phone)).toHaveLength(1);
  expect(await stack.store.connection.collection('optout_pending').countDocuments({ 'input.phone': phone })).toBe(0);
});
