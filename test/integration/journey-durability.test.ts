import path from 'node:path';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { numberedPhones } from '../harness/contact';
import { startTestStack, type RunningWorker, type TestStack } from '../harness/stack';
import { waitForJourney } from '../harness/stack-queries';
import { productionWorkerEnv } from '../harness/stack-env';
import { sleep } from '../harness/wait';
import { parseJourneyId } from '../../workflows/journey/contract';

/**
 * What survives a dead worker.
 *
 * The send activity claims an outbox row before it calls the provider and finishes the row after.
 * A worker that dies in between leaves the row `claimed`: the provider may or may not have taken
 * the message. The retried activity does not resend blindly: it looks the message up at the provider
 * and adopts it when it is there, and sends again only when it is not (docs/ambiguous-sends.md).
 */

const phoneNo = numberedPhones(400);

const ACME_SMS = '+15005550006';
const repoRoot = path.resolve(__dirname, '..', '..');

jest.setTimeout(120_000);

let stack: TestStack;
let killedWorker: ManagedProcess | undefined;
let current: RunningWorker | undefined;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jdur', worker: false });
});
afterAll(async () => {
  await killedWorker?.stop(1_000);
  await stack?.close();
});

/**
 * Stops a stack worker without closing its connection: stack.close() closes it, and a second close throws.
 */
async function stopWorker(w: RunningWorker): Promise<void> {
  if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
  await waitUntil(() => w.worker.getState() === 'STOPPED', { timeoutMs: 30_000, what: 'the worker to stop' });
}

/** The production worker entry point (workers/main.ts) in its own process, configured like a deployment. */
function startWorkerProcess(): ManagedProcess {
  return startNodeProcess({
    name: 'journey-worker',
    entry: path.join(repoRoot, 'workers', 'main.ts'),
    cwd: repoRoot,
    env: productionWorkerEnv(stack),
  });
}

test('a worker killed between the provider call and the activity completion: exactly one message reaches the carrier', async () => {
  const phone = phoneNo(1);
  const worker = startWorkerProcess();
  killedWorker = worker;
  await waitUntil(() => worker.tail(50).some((l) => l.includes('worker started')), { timeoutMs: 60_000, what: 'the worker process to start', process: worker });

  // The carrier accepts the message at once but answers 20 s late: the activity is in flight.
  stack.carrier.injectFault({ target: 'messages', delayMs: 20_000 });
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '90s' }] });
  expect(start.status).toBe(202);
  const { journeyId } = start.body;
  const accepted = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 20_000);
  const ids = parseJourneyId(journeyId)!;
  const key = `${ids.workflowId}/${ids.runId}/step0/request`;
  expect(await stack.store.outbox.findById(key).lean()).toMatchObject({ status: 'claimed', attempts: 1 });

  process.kill(-worker.child.pid!, 'SIGKILL');
  expect(await worker.exited).toMatchObject({ signal: 'SIGKILL' });
  killedWorker = undefined;
  const replacement = await stack.startWorker();

  // The retry runs once the first attempt's start-to-close timeout (30 s) has passed. The message's
  // status callbacks came while the row was still claimed: kept, not applied, and the retry adopts
  // the message they reported before it asks the carrier.
  await waitUntil(async () => (await stack.store.outbox.findById(key).lean())?.status === 'sent', { timeoutMs: 60_000, what: 'the retried send to settle the claimed outbox row' });
  const waiting = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'the request found at the carrier');
  expect(waiting.status).toBe('active');
  expect(waiting.events.find((e: any) => e.kind === 'request:sent').providerId).toBe(accepted.sid);
  expect(stack.carrier.messages({ to: phone }).map((m) => m.sid)).toEqual([accepted.sid]);
  expect(await stack.store.outbox.findById(key).lean()).toMatchObject({ status: 'sent', providerId: accepted.sid, attempts: 1, resolution: { outcome: 'found', how: 'status_callback' } });

  // The message did reach the contact, who answers it; the journey completes normally.
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'yes' });
  const done = await waitForJourney(stack, journeyId, (j) => j.status === 'confirmed', 'confirmed');
  expect(done.outcome.categories).toEqual(['offers']);
  expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
  expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(1);
  await stopWorker(replacement);
});

test('an inbound reply while no worker runs is acknowledged and applied once a worker is back', async () => {
  const phone = phoneNo(2);
  const running: RunningWorker = await stack.startWorker();
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  const { journeyId } = start.body;
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 30_000);
  await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'the request sent');

  await stopWorker(running);
  const inbound = await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'Yes' });
  expect(inbound.status).toBe(200);
  // Durable in Temporal though no worker runs: the reply is in the journey's history, signalled straight to it.
  const ids = parseJourneyId(journeyId)!;
  const history = await stack.client.workflow.getHandle(ids.workflowId, ids.runId).fetchHistory();
  expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'contactAnswered')).toHaveLength(1);
  await sleep(1_000);
  const contactId = (await stack.store.journeys.findById(journeyId).lean())?.contactId;
  expect(await stack.store.consentEvents.countDocuments({ contactId })).toBe(0);
  expect(await stack.store.journeys.findById(journeyId).lean()).toMatchObject({ status: 'active' });
  // With no worker to answer the query, the API answers from the store instead of waiting.
  const askedAt = Date.now();
  const read = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(Date.now() - askedAt).toBeLessThan(10_000);
  expect(read).toMatchObject({ status: 200, body: { journeyId, status: 'active', source: 'store' } });

  current = await stack.startWorker();
  const done = await waitForJourney(stack, journeyId, (j) => j.status === 'confirmed', 'confirmed', 30_000);
  expect(done.outcome.categories).toEqual(['order_updates']);
  expect(await stack.store.consentEvents.countDocuments({ contactId, type: 'opted_in' })).toBe(1);
  expect(await stack.store.inbound.findById(inbound.messageSid).lean()).toMatchObject({ routedTo: 'journey' });
});

describe('reports that arrive before the send activity\'s result', () => {
  // The carrier acts on the request at once but answers it late, so its status callback (or the
  // contact's silence on the call) reaches the journey before the activity result does.

  test('a failed delivery moves the journey on', async () => {
    current ??= await stack.startWorker();
    const phone = phoneNo(3);
    const email = 'early-failure@example.org';
    stack.carrier.setRecipientBehaviour(phone, { failWith: 30003 });
    stack.carrier.injectFault({ target: 'messages', delayMs: 1_500 });
    const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone, email }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }, { channel: 'email', waitFor: '60s' }] });
    expect(start.status).toBe(202);
    const sms = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 30_000);
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0].callbacks.some((c) => c.params.MessageStatus === 'undelivered' && c.httpStatus === 204), 30_000);
    const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 30_000);
    expect(Date.parse(mail.receivedAt) - Date.parse(sms.createdAt)).toBeLessThan(20_000);
    stack.carrier.setRecipientBehaviour(phone, {});
    await stack.request('POST', `/v1/journeys/${start.body.journeyId}/cancel`, {});
  });

  test('an unanswered call moves the journey on', async () => {
    current ??= await stack.startWorker();
    const phone = phoneNo(4);
    stack.carrier.injectFault({ target: 'calls', delayMs: 2_000 });
    const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'ivr', waitFor: '60s' }, { channel: 'sms', waitFor: '60s' }] });
    expect(start.status).toBe(202);
    const call = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), 30_000);
    await stack.carrier.letGatherTimeOut(call.sid);
    expect((await stack.carrier.letGatherTimeOut(call.sid)).status).toBe('completed');
    const sms = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 30_000);
    expect(Date.parse(sms.createdAt) - Date.parse(call.createdAt)).toBeLessThan(20_000);
    await stack.request('POST', `/v1/journeys/${start.body.journeyId}/cancel`, {});
  });
});
