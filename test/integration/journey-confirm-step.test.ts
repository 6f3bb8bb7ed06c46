import { ApplicationFailure } from '@temporalio/activity';
import type { ConfirmJourneyInput } from '../../activities/confirm-journey';
import { localActivityType } from '../../bench/actions';
import { contactIdOf } from '../../store/models';
import { parseJourneyId } from '../../workflows/journey/contract';
import { realActivities, withActivityWorker } from '../harness/activity-worker';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';

/**
 * A confirmed answer in one activity (confirmJourney): the consent, the WhatsApp confirmation, its
 * record and the journey's end. What it stores must be what the workflow ends with, and when it
 * gives up part way the workflow's own steps finish the job without writing or sending anything twice.
 */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jcs', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const withWorker = <T>(fault: ((input: ConfirmJourneyInput) => Promise<unknown>) | undefined, body: () => Promise<T>) => withActivityWorker(stack, fault ? { confirmJourney: fault } : {}, body);

async function confirmedJourney(phone: string) {
  const journeyId = await startJourney(stack, { businessId: 'acme', contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
  expect((await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' })).status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'confirmed');
  const ids = parseJourneyId(journeyId)!;
  const handle = stack.client.workflow.getHandle(ids.workflowId, ids.runId);
  const result = await handle.result();
  const history = await handle.fetchHistory();
  const doc = await stack.store.journeys.findById(journeyId).lean();
  const events = await stack.store.consentEvents.find({ businessId: 'acme', contactId: contactIdOf('acme', phone) }).lean();
  return { result, history, doc, events };
}

const scheduled = (history: Awaited<ReturnType<typeof confirmedJourney>>['history']) =>
  (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
/** The activity type of each local-activity marker, in order. */
const localActivityTypes = (history: Awaited<ReturnType<typeof confirmedJourney>>['history']) =>
  (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map(localActivityType);
const typesOf = (events: Array<{ type: string; category: string }>) => events.map((e) => `${e.type}:${e.category}`).sort();

test('a confirmed journey is recorded, confirmed and ended in one activity, and the store holds the state the workflow ended with', async () => {
  const phone = '+14155550181';
  const { result, history, doc, events } = await withWorker(undefined, () => confirmedJourney(phone));
  // journeyWorkflowV4: the request and the confirmed answer's one step are local activities.
  expect(scheduled(history)).toEqual([]);
  expect(localActivityTypes(history)).toEqual(['send', 'confirmJourney']);
  expect(doc?.status).toBe('confirmed');
  expect(JSON.parse(JSON.stringify(doc?.state))).toEqual(JSON.parse(JSON.stringify(result)));
  expect(result.outcome).toMatchObject({ status: 'confirmed', categories: ['order_updates', 'offers'] });
  expect(result.events.at(-1)).toMatchObject({ direction: 'sent', kind: 'confirmation:sent', channel: 'whatsapp' });
  expect(typesOf(events)).toEqual(['confirmation_sent:offers', 'confirmation_sent:order_updates', 'opted_in:offers', 'opted_in:order_updates']);
  expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(1);
});

test('when the one activity gives up after writing the consent and sending, the separate steps finish without a second write or message', async () => {
  const phone = '+14155550182';
  const real = realActivities(stack);
  let attempts = 0;
  const givesUp = async (input: ConfirmJourneyInput) => {
    attempts++;
    const written = await real.recordConsent(input.record);
    await real.send({ ...input.confirmation, categories: written.categories });
    throw ApplicationFailure.create({ type: 'StoreUnavailable', message: 'the store went away before the confirmation was recorded', nonRetryable: true });
  };
  const { result, history, doc, events } = await withWorker(givesUp, () => confirmedJourney(phone));
  expect(attempts).toBe(1);
  // The step by step path: the consent and the end as local activities, the confirmation's send found
  // already done; the request and the one step that gave up were local activities too.
  expect(scheduled(history)).toEqual(['send']);
  expect(localActivityTypes(history)).toEqual(['send', 'confirmJourney', 'recordConsent', 'recordConfirmationSent', 'finishJourney']);
  expect(doc?.status).toBe('confirmed');
  expect(JSON.parse(JSON.stringify(doc?.state))).toEqual(JSON.parse(JSON.stringify(result)));
  expect(typesOf(events)).toEqual(['confirmation_sent:offers', 'confirmation_sent:order_updates', 'opted_in:offers', 'opted_in:order_updates']);
  expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(1);
});
