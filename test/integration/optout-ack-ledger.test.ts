import { randomBytes } from 'node:crypto';
import { OPTOUT_START_WAIT_MS, PENDING_OPTOUT_MIN_AGE_MS, startPendingOptOuts } from '../../services/optouts';
import { verifyLedger } from '../../store/ledger-verify';
import { contactIdOf } from '../../store/models';
import { optOutWorkflowId } from '../../workflows/optout/contract';
import { freshPhones, postAsTwilio } from '../harness/contact';
import { startCutOffApi } from '../harness/cut-off-api';
import { startTestStack, TEST_ACCOUNT_SID, TEST_API_KEY, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

/**
 * A STOP is in the ledger the moment its webhook is answered: the stack runs without a worker, so
 * nothing but the acknowledgement itself can have written it. The worker started afterwards finds the
 * events written, ends the journey and sends the one confirmation, and writes nothing twice.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+15005550006';
const ALL = ['offers', 'order_updates', 'recommendations'];
const phoneOf = freshPhones('+1415557');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ooack', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const optOutEventsOf = (contactId: string) => stack.store.consentEvents.find({ contactId, type: 'opted_out' }).sort({ category: 1 }).lean();
const outbound = (phone: string) => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');

test('the ledger events, the block and the current consents exist when the webhook answers, before any worker ran; the workflow then adds nothing but the ending and one confirmation', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const journey = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(journey.status).toBe(202);

  const stop = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(stop.status).toBe(200);
  // Read at once: no worker exists, so the acknowledgement wrote all of this.
  const atAnswer = await optOutEventsOf(contactId);
  expect(atAnswer.map((e) => e.category)).toEqual(ALL);
  for (const e of atAnswer) {
    expect(e._id).toBe(`${optOutWorkflowId(`sms.${stop.messageSid}`)}:${e.category}:opted_out`);
    expect(e.proof).toMatchObject({ method: 'keyword', channel: 'sms', text: 'STOP', matchedKeyword: 'stop', allCategories: true });
    expect((e.proof as any).inbound.MessageSid).toBe(stop.messageSid);
    expect(typeof e.seq).toBe('number');
  }
  const consents = await stack.store.consents.find({ contactId }).lean();
  expect(consents.filter((c) => c.status === 'opted_out').map((c) => c.category).sort()).toEqual(ALL);
  expect((await stack.store.contacts.findById(contactId).lean())?.messaging).toBe('opted_out');
  expect(await stack.client.workflow.getHandle(optOutWorkflowId(`sms.${stop.messageSid}`)).describe()).toMatchObject({ status: { name: 'RUNNING' } });
  expect(outbound(phone)).toEqual([]);

  // The carrier delivers the same STOP again: the same opt-out, nothing new in the ledger.
  const again = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', { MessageSid: stop.messageSid, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'STOP', NumMedia: '0' });
  expect(again.status).toBe(200);
  expect(await stack.store.consentEvents.countDocuments({ contactId, type: 'opted_out' })).toBe(ALL.length);

  await stack.startWorker();
  const result = await stack.client.workflow.getHandle(optOutWorkflowId(`sms.${stop.messageSid}`)).result();
  // With the worker starting now, the journey's first request may reach the send gate (refused: the
  // journey ends as opted_out by itself) before the opt-out's signal does; either way it ends opted_out.
  expect(result).toMatchObject({ categories: expect.arrayContaining(ALL), allCategories: true, journeyEnded: expect.any(Boolean), confirmation: { outcome: 'sent' } });
  await waitForJourneyStatus(stack, journey.body.journeyId, 'opted_out');

  const afterWorkflow = await optOutEventsOf(contactId);
  expect(afterWorkflow.map((e) => [e._id, e.seq, e.hash])).toEqual(atAnswer.map((e) => [e._id, e.seq, e.hash]));
  // The journey's own request was refused by the send gate: the confirmation is the only message.
  const sent = outbound(phone);
  expect(sent).toHaveLength(1);
  expect(sent[0].renderedText).toContain('you are unsubscribed');
  const v = await verifyLedger(stack.store, 'acme');
  expect(v.broken).toEqual([]);
});

test('a first STOP while Temporal takes the connection and never answers: blocked, in the ledger and kept for the sweep when the webhook answers, without waiting out the start', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const messageSid = `SM${randomBytes(16).toString('hex')}`;
  const optOutId = optOutWorkflowId(`sms.${messageSid}`);
  const hanging = await startCutOffApi(stack, { hang: true });
  let elapsed: number;
  try {
    const began = Date.now();
    const stop = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', { MessageSid: messageSid, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'STOP', NumMedia: '0' }, undefined, hanging.url);
    elapsed = Date.now() - began;
    expect(stop.status).toBe(200);
  } finally {
    await hanging.close();
  }
  // A first delivery has nothing to undo, so its answer waits for the store, not for Temporal's start.
  expect(elapsed).toBeLessThan(OPTOUT_START_WAIT_MS);
  expect((await optOutEventsOf(contactId)).map((e) => e.category)).toEqual(ALL);
  expect((await stack.store.contacts.findById(contactId).lean())?.messaging).toBe('opted_out');
  const pending = stack.store.connection.collection('optout_pending');
  expect(await pending.countDocuments({ _id: optOutId as never })).toBe(1);

  const deps = { client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: TEST_PAGE_SECRET };
  // The scheduled sweep leaves one kept just now to the start or signal still in flight for it.
  expect(await startPendingOptOuts(deps, stack.api.log, { minAgeMs: PENDING_OPTOUT_MIN_AGE_MS })).toEqual({ started: 0, failed: 0 });
  expect(await pending.countDocuments({ _id: optOutId as never })).toBe(1);
  expect(await startPendingOptOuts(deps, stack.api.log)).toMatchObject({ failed: 0 });
  expect(await pending.countDocuments({ _id: optOutId as never })).toBe(0);
  expect((await stack.client.workflow.getHandle(optOutId).describe()).status.name).toMatch(/RUNNING|COMPLETED/);
});

test("an opt-out a journey may carry is kept in the store beside the block and the ledger: the answer does not wait for Temporal's start, and says blocked", async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const hanging = await startCutOffApi(stack, { hang: true });
  let res: Response;
  try {
    // An agent relaying a chat's STOP: confirmed in that chat, so its journey would carry it.
    res = await fetch(`${hanging.url}/v1/optouts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ businessId: 'acme', phone, reason: 'said STOP in the chat', source: { kind: 'sms', reference: 'chat-7' } }),
    });
  } finally {
    await hanging.close();
  }
  // Kept only after waiting OPTOUT_START_GRACE_MS for Temporal, it would say 'queued'.
  expect(res.status).toBe(202);
  const body = (await res.json()) as { optOutId: string; existing: boolean; progress: string };
  expect(body).toMatchObject({ existing: false, progress: 'blocked' });
  expect((await stack.store.contacts.findById(contactId).lean())?.messaging).toBe('opted_out');
  expect((await optOutEventsOf(contactId)).map((e) => e.category)).toEqual(ALL);
  const pending = stack.store.connection.collection('optout_pending');
  expect(await pending.countDocuments({ _id: body.optOutId as never })).toBe(1);

  const deps = { client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: TEST_PAGE_SECRET };
  expect(await startPendingOptOuts(deps, stack.api.log)).toMatchObject({ failed: 0 });
  expect(await pending.countDocuments({ _id: body.optOutId as never })).toBe(0);
});
