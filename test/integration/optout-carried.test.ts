import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { HonourAndConfirmInput } from '../../activities/optout-confirm';
import { localActivityType } from '../../bench/actions';
import { contactIdOf } from '../../store/models';
import { parseJourneyId } from '../../workflows/journey/contract';
import { optOutWorkflowId } from '../../workflows/optout/contract';
import { realActivities, withActivityWorker } from '../harness/activity-worker';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';

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

const withWorker = <T>(fault: ((input: HonourAndConfirmInput) => Promise<unknown>) | undefined, body: () => Promise<T>) => withActivityWorker(stack, fault ? { honourAndConfirm: fault } : {}, body);
const isConfirmation = (body: string) => body.includes('you are unsubscribed');

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
const tasksAfterSignal = (h: History) => {
  const signalled = events(h).findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut');
  return events(h)
    .slice(signalled)
    .filter((e) => e.workflowTaskCompletedEventAttributes).length;
};

test('a STOP during a journey is carried out by the journey: no opt-out workflow, one workflow task, one confirmation', async () => {
  const { state, optOut, history, events: ledger, confirmations } = await withWorker(undefined, () => stopDuringJourney('+14155550186'));
  expect(optOut).toBe('none');
  expect(state.status).toBe('opted_out');
  expect(optedOutSignals(history)).toHaveLength(1);
  // The opt-out's step beside the journey's own end, both in the task the signal brought.
  expect(stepsAfterSignal(history).sort()).toEqual(['finishJourney', 'honourAndConfirm']);
  expect(tasksAfterSignal(history)).toBe(1);
  expect(scheduled(history)).toEqual([]);
  // One event per category of acme's three, written once.
  expect(ledger.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(confirmations).toHaveLength(1);
});

test('when the carried step gives up after honouring and confirming, the journey finishes it with no second confirmation', async () => {
  const real = realActivities(stack);
  let attempts = 0;
  const givesUp = async (input: HonourAndConfirmInput) => {
    attempts++;
    const honoured = await real.honourOptOut(input.optOut);
    await real.send({ ...input.confirmation, categories: honoured.categories });
    throw ApplicationFailure.create({ type: 'StoreUnavailable', message: 'the worker lost the store after the confirmation', nonRetryable: true });
  };
  const { optOut, history, events: ledger, confirmations } = await withWorker(givesUp, () => stopDuringJourney('+14155550187'));
  expect(attempts).toBe(1);
  expect(optOut).toBe('none');
  expect(stepsAfterSignal(history)).toEqual(expect.arrayContaining(['honourAndConfirm', 'honourOptOut', 'finishJourney']));
  expect(scheduled(history)).toEqual(['send']);
  expect(ledger.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(confirmations).toHaveLength(1);
});
