import { closeJourneyForOptOut, recordJourneyEnd } from '../../store/journeys';
import { contactIdOf } from '../../store/models';
import { parseJourneyId, type JourneyState } from '../../workflows/journey/contract';
import { optOutWorkflowId } from '../../workflows/optout/contract';
import { withActivityWorker } from '../harness/activity-worker';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney } from '../harness/stack-queries';
import { eventually } from '../harness/wait';

/**
 * An opt-out closes the record of the contact's journey when it is acknowledged, without waiting for
 * the journey's workflow (a busy task queue can hold that back for many seconds); the workflow, when
 * it ends, adds its state to the record and keeps the opt-out's end time.
 */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ojr', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const noFaults = {};

/** A journey whose request went out, so it has begun and its contact names it; the worker is stopped after. */
async function begunJourney(phone: string): Promise<string> {
  return withActivityWorker(stack, noFaults, async () => {
    const journeyId = await startJourney(stack, { businessId: 'acme', contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '60s' }] });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
    await eventually('the contact to name its journey', async () => (await stack.store.contacts.findById(contactIdOf('acme', phone), { currentJourneyId: 1 }).lean<{ currentJourneyId?: string }>())?.currentJourneyId === journeyId);
    return journeyId;
  });
}

test("a STOP closes the journey's record at its acknowledgement, while no worker runs the journey; the journey then adds its state", async () => {
  const phone = '+14155550191';
  const journeyId = await begunJourney(phone);

  // No worker polls now: neither the opt-out's workflow nor the journey's can take a step.
  const stop = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(stop.status).toBe(200);
  const optOutId = optOutWorkflowId(`sms.${stop.messageSid}`);
  const closed = await eventually('the record to close', async () => {
    const doc = await stack.store.journeys.findById(journeyId).lean();
    return doc?.status === 'opted_out' ? doc : undefined;
  });
  expect(closed).toMatchObject({ status: 'opted_out', endedBy: optOutId });
  expect(closed.state).toBeUndefined();
  const ids = parseJourneyId(journeyId)!;
  const journey = stack.client.workflow.getHandle(ids.workflowId, ids.runId);
  expect((await journey.describe()).status.name).toBe('RUNNING');

  await withActivityWorker(stack, noFaults, async () => {
    await journey.result();
    // The journey carried the opt-out's step (journeyWorkflowV5): the confirmation is its last act.
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).find((m) => m.body.includes('you are unsubscribed')), 15_000);
  });
  const ended = await stack.store.journeys.findById(journeyId).lean();
  expect(ended).toMatchObject({ status: 'opted_out', endedBy: optOutId, state: { status: 'opted_out' } });
  // The end time is the acknowledgement's, not the workflow's.
  expect(ended!.endedAt!.getTime()).toBe(closed.endedAt!.getTime());
});

test('an opt-out closes only a journey begun before it, and only once', async () => {
  const phone = '+14155550192';
  const journeyId = await begunJourney(phone);
  const contactId = contactIdOf('acme', phone);
  const doc = await stack.store.journeys.findById(journeyId).lean();
  const before = new Date(doc!.startedAt!.getTime() - 1000).toISOString();

  expect(await closeJourneyForOptOut(stack.store, { contactId, optOutId: 'optout.earlier', receivedAt: before })).toBe(false);
  expect((await stack.store.journeys.findById(journeyId).lean())?.status).toBe('active');

  const now = new Date().toISOString();
  expect(await closeJourneyForOptOut(stack.store, { contactId, optOutId: 'optout.now', receivedAt: now })).toBe(true);
  expect(await closeJourneyForOptOut(stack.store, { contactId, optOutId: 'optout.again', receivedAt: now })).toBe(false);
  expect(await stack.store.journeys.findById(journeyId).lean()).toMatchObject({ status: 'opted_out', endedBy: 'optout.now' });
  expect(await closeJourneyForOptOut(stack.store, { contactId: contactIdOf('acme', '+14155550199'), optOutId: 'optout.nobody', receivedAt: now })).toBe(false);
});

test("a journey that decided before the opt-out reached it records its own outcome over the opt-out's close, once", async () => {
  const journeyId = 'jr_record_test/run-1';
  await stack.store.journeys.create({ _id: journeyId, workflowId: 'jr_record_test', runId: 'run-1', businessId: 'acme', contactId: 'c_record_test', status: 'opted_out', endedBy: 'optout.x', endedAt: new Date(0), startedAt: new Date(0) });
  const state = { journeyId, businessId: 'acme', contactId: 'c_record_test', categories: ['offers'], status: 'confirmed', stepIndex: 0, channel: 'sms', attempts: 1, events: [] } as unknown as JourneyState;
  expect(await recordJourneyEnd(stack.store, state)).toBe(true);
  const doc = await stack.store.journeys.findById(journeyId).lean();
  expect(doc).toMatchObject({ status: 'confirmed', state: { status: 'confirmed' } });
  expect(doc!.endedAt!.getTime()).toBeGreaterThan(0);
  expect(await recordJourneyEnd(stack.store, state)).toBe(false);
});
