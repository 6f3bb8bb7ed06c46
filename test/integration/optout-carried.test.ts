import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { localActivityType } from '../../bench/actions';
import { readBlocked } from '../../store/blocks';
import { contactIdOf } from '../../store/models';
import { parseJourneyId } from '../../workflows/journey/contract';
import { optOutWorkflowId } from '../../workflows/optout/contract';
import { honoursThenGivesUp, isOptOutConfirmation, withStepWorker, type StepFault } from '../harness/optout-step';
import { startTestStack, TEST_ACCOUNT_SID, type TestStack } from '../harness/stack';
import { consentsOf, postAsTwilio } from '../harness/contact';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';
import { eventually, sleep } from '../harness/wait';

/**
 * A STOP that reaches a journey of the current type (journeyWorkflowV5) runs no workflow of its own:
 * the journey's `optedOut` signal carries the opt-out's step, which the journey runs in the task that
 * ends it. Should that step give up part way, the store step and the confirmation's own send finish
 * the job without a second confirmation.
 */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ocar', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const withWorker = <T>(fault: StepFault | undefined, body: () => Promise<T>) => withStepWorker(stack, fault, body);
const isConfirmation = isOptOutConfirmation;

async function stopDuringJourney(phone: string) {
  const journeyId = await startJourney(stack, { businessId: 'acme', contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
  const stop = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(stop.status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const journey = parseJourneyId(journeyId)!;
  const handle = stack.client.workflow.getHandle(journey.workflowId, journey.runId);
  const state = await handle.result();
  const optOut = await stack.client.workflow
    .getHandle(optOutWorkflowId(`sms.${stop.messageSid}`))
    .describe()
    .then(
      () => 'started',
      (err: unknown) => (err instanceof WorkflowNotFoundError ? 'none' : String(err)),
    );
  const events = await stack.store.consentEvents.find({ businessId: 'acme', contactId: contactIdOf('acme', phone), type: 'opted_out' }).lean();
  return { state, optOut, history: await handle.fetchHistory(), events, confirmations: stack.carrier.messages({ to: phone }).filter((m) => isConfirmation(m.body)) };
}

type History = Awaited<ReturnType<typeof stopDuringJourney>>['history'];
const events = (h: History) => h.events ?? [];
const scheduled = (h: History) => events(h).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
const optedOutSignals = (h: History) => events(h).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut');
/** The activity type of each local-activity marker after the opt-out's signal, in order. */
const stepsAfterSignal = (h: History) => {
  const signalled = events(h).findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut');
  return events(h)
    .slice(signalled)
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map(localActivityType);
};
/** Workflow tasks after the opt-out's signal, and other signals after it (a delivery status that lands while that task runs makes the server refuse its completion, and the task runs again). */
const afterSignal = (h: History) => {
  const after = events(h).slice(events(h).findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut') + 1);
  return { tasks: after.filter((e) => e.workflowTaskCompletedEventAttributes).length, laterSignals: after.filter((e) => e.workflowExecutionSignaledEventAttributes).length };
};

test('a STOP during a journey is carried out by the journey: no opt-out workflow, one workflow task, one confirmation', async () => {
  const { state, optOut, history, events: ledger, confirmations } = await withWorker(undefined, () => stopDuringJourney('+14155550186'));
  expect(optOut).toBe('none');
  expect(state.status).toBe('opted_out');
  expect(optedOutSignals(history)).toHaveLength(1);
  // The acknowledgement blocked and wrote the ledger before handing the step over: the step only confirms.
  const carried = JSON.parse(Buffer.from(optedOutSignals(history)[0].workflowExecutionSignaledEventAttributes!.input!.payloads![0].data!).toString('utf8')).carried;
  expect(carried).toMatchObject({ honoured: { blocked: true, allCategories: true, categories: ['order_updates', 'offers', 'recommendations'] }, confirmation: { purpose: 'optout_confirmation' } });
  // The opt-out's step beside the journey's own end, both in the task the signal brought.
  expect(stepsAfterSignal(history).sort()).toEqual(['finishJourney', 'honourAndConfirm']);
  const { tasks, laterSignals } = afterSignal(history);
  expect(tasks).toBe(1 + laterSignals);
  expect(scheduled(history)).toEqual([]);
  // One event per category of acme's three, written once.
  expect(ledger.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(confirmations).toHaveLength(1);
});

test('when the carried step gives up after honouring and confirming, the journey finishes it with no second confirmation', async () => {
  const { fault: givesUp, attempts } = honoursThenGivesUp(stack);
  const { optOut, history, events: ledger, confirmations } = await withWorker(givesUp, () => stopDuringJourney('+14155550187'));
  expect(attempts()).toBe(1);
  expect(optOut).toBe('none');
  expect(stepsAfterSignal(history)).toEqual(expect.arrayContaining(['honourAndConfirm', 'honourOptOut', 'finishJourney']));
  expect(scheduled(history)).toEqual(['send']);
  expect(ledger.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(confirmations).toHaveLength(1);
});

test('a carried STOP delivered again after the contact sent START changes nothing: no workflow, no block, no second confirmation', async () => {
  const phone = '+14155550188';
  const { messageSid } = await withWorker(undefined, async () => {
    const journeyId = await startJourney(stack, { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
    const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'STOP' };
    expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)).status).toBe(200);
    await waitForJourneyStatus(stack, journeyId, 'opted_out');
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).find((m) => isConfirmation(m.body)), 15_000);
    expect((await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'START' })).status).toBe(200);
    await eventually('messaging resumed', async () => (await consentsOf(stack, phone)).messaging === 'allowed');
    // The carrier delivers the same STOP again (a retry after a lost answer).
    expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)).status).toBe(200);
    await sleep(1_000);
    return { messageSid: params.MessageSid };
  });
  expect((await consentsOf(stack, phone)).messaging).toBe('allowed');
  expect(await readBlocked(stack.store, contactIdOf('acme', phone))).toBe(false);
  const optOut = await stack.client.workflow.getHandle(optOutWorkflowId(`sms.${messageSid}`)).describe().catch((err: unknown) => err);
  expect(optOut).toBeInstanceOf(WorkflowNotFoundError);
  expect(stack.carrier.messages({ to: phone }).filter((m) => isConfirmation(m.body))).toHaveLength(1);
});
