import { localActivityType } from '../../bench/actions';
import { contactIdOf } from '../../store/models';
import { journeyIdOf, journeyWorkflowId, parseJourneyId, type JourneyInput } from '../../workflows/journey/contract';
import { optOutWorkflowId } from '../../workflows/optout/contract';
import { honoursThenGivesUp, isOptOutConfirmation, withStepWorker, type StepFault } from '../harness/optout-step';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

/**
 * An opt-out that runs its own workflow (the contact's journey is of an older type, or none runs),
 * honoured and confirmed in one activity (honourAndConfirm), which also tells the journey to
 * end; when that activity gives up part way, the local store step, the confirmation's own send and
 * the workflow's own signal finish the job without a second confirmation.
 */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ocs', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const withWorker = <T>(fault: StepFault | undefined, body: () => Promise<T>) => withStepWorker(stack, fault, body);

const isConfirmation = isOptOutConfirmation;

/**
 * A journey of journeyWorkflowV4, as started before journeys carried opt-outs themselves: a STOP then
 * runs its own workflow (optout-carried.test.ts has the current type).
 */
async function startOlderJourney(phone: string): Promise<string> {
  const input: JourneyInput = { businessId: 'acme', contactId: contactIdOf('acme', phone), contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'sms', waitForMs: 60_000, remindAfterMs: [] }], requestedAt: new Date().toISOString() };
  const handle = await stack.client.workflow.start('journeyWorkflowV4', { workflowId: journeyWorkflowId('acme', input.contactId), taskQueue: stack.taskQueue, args: [input] });
  return journeyIdOf(handle.workflowId, handle.firstExecutionRunId);
}

async function stopDuringJourney(phone: string) {
  const journeyId = await startOlderJourney(phone);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
  const stop = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  expect(stop.status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const handle = stack.client.workflow.getHandle(optOutWorkflowId(`sms.${stop.messageSid}`));
  const result = await handle.result();
  const history = await handle.fetchHistory();
  const events = await stack.store.consentEvents.find({ businessId: 'acme', contactId: contactIdOf('acme', phone), type: 'opted_out' }).lean();
  const journey = parseJourneyId(journeyId)!;
  const journeyHistory = await stack.client.workflow.getHandle(journey.workflowId, journey.runId).fetchHistory();
  return { result, history, journeyHistory, events, confirmations: stack.carrier.messages({ to: phone }).filter((m) => isConfirmation(m.body)) };
}

type History = Awaited<ReturnType<typeof stopDuringJourney>>['history'];
const scheduled = (h: History) => (h.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
const optedOutSignals = (h: History) => (h.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut').length;
const signalsSent = (h: History) => (h.events ?? []).filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length;
/** The activity type of each local-activity marker, in order. */
const localSteps = (h: History) => (h.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map(localActivityType);
const tasks = (h: History) => (h.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length;

test('a STOP during an older journey is honoured and confirmed in one step that also tells the journey to end, in one workflow task', async () => {
  const { result, history, journeyHistory, events, confirmations } = await withWorker(undefined, () => stopDuringJourney('+14155550183'));
  // optOutWorkflowV6: the one step is a local activity, nothing goes through the task queue.
  expect(scheduled(history)).toEqual([]);
  expect(localSteps(history)).toEqual(['honourAndConfirm']);
  expect(tasks(history)).toBe(1);
  expect(signalsSent(history)).toBe(0);
  // The acknowledgement and the activity both sent it, with one request id: the journey got it once.
  expect(optedOutSignals(journeyHistory)).toBe(1);
  // True or false by who came first: the acknowledgement's signal may have ended the journey before the activity asked.
  expect(result).toMatchObject({ allCategories: true, journeyEnded: expect.any(Boolean), confirmation: { outcome: 'sent' } });
  // One event per category of acme's three, written once.
  expect(events.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(confirmations).toHaveLength(1);
});

test('when the one step gives up after honouring and confirming, the separate steps send no second confirmation', async () => {
  const { fault: givesUp, attempts } = honoursThenGivesUp(stack);
  const before = await withWorker(undefined, () => stopDuringJourney('+14155550184'));
  const { result, history, events, confirmations } = await withWorker(givesUp, () => stopDuringJourney('+14155550185'));
  expect(attempts()).toBe(1);
  expect(scheduled(history)).toEqual(['send']);
  expect(localSteps(history)).toEqual(['honourAndConfirm', 'honourOptOut']);
  // The journey is told from the workflow too (the acknowledgement may have ended it already).
  expect(signalsSent(history)).toBe(1);
  expect(result).toMatchObject({ allCategories: true, confirmation: { outcome: 'sent' } });
  // The same ledger events as an opt-out that went in one step.
  expect(events.map((e) => e.category).sort()).toEqual(before.events.map((e) => e.category).sort());
  expect(confirmations).toHaveLength(1);
});
