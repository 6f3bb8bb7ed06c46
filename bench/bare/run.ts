import path from 'node:path';
import { createInterface } from 'node:readline';
import { waitUntil } from '../../dev/processes';
import { withWorkerHeapLimit } from '../../dev/worker-heap';
import { waitForCount } from '../progress';
import type { BenchStack } from '../stack';
import { mapLimit } from '../helpers';
import { BARE_NOTE_PREFIX, BARE_READY_LINE, bareJourneyWorkflowId, bareJourneyWorkflowRef, bareReplySignal, type BareStep } from './contract';

/** When each step of each bare journey finished, by workflow id, as its worker reported it. */
export type StepTimes = Record<BareStep, Map<string, number>>;

export interface BareWorker {
  pid: number;
  taskQueue: string;
  steps: StepTimes;
}

/** Starts the bare worker next to the product worker (same environment, its own task queue) and waits until it polls. */
export async function startBareWorker(stack: BenchStack): Promise<BareWorker> {
  const taskQueue = `${stack.taskQueue}-bare`;
  // The same heap limit as the product worker, so their peaks compare.
  const child = stack.startProcess('bare-worker', path.join(__dirname, 'worker.ts'), { BARE_TASK_QUEUE: taskQueue, NODE_OPTIONS: withWorkerHeapLimit(process.env).NODE_OPTIONS });
  const steps: StepTimes = { requested: new Map(), recorded: new Map(), confirmed: new Map() };
  let ready = false;
  createInterface({ input: child.child.stdout! }).on('line', (line) => {
    if (line === BARE_READY_LINE) ready = true;
    if (!line.startsWith(BARE_NOTE_PREFIX)) return;
    const [step, workflowId, at] = line.slice(BARE_NOTE_PREFIX.length).split(' ');
    steps[step as BareStep]?.set(workflowId, Number(at));
  });
  await waitUntil(() => ready, { timeoutMs: 120_000, intervalMs: 200, what: 'the bare worker to bundle its workflow and poll', process: child });
  return { pid: child.child.pid!, taskQueue, steps };
}

/** The figures of one pass of N journeys, Optinflow's or the bare baseline's, measured alike. */
export interface PassFigures {
  name: string;
  count: number;
  /** From the first start to the last one accepted. */
  acceptedMs: number;
  /** From the first start to the last request done (at the carrier, or the bare request activity). */
  requestsMs: number;
  /** From the first reply sent to the last confirmation done. */
  confirmationsMs: number;
  /** Per journey: its start to its request done. */
  toRequest: number[];
  /** Per journey: its reply to its answer recorded (consent written, or the bare record activity). */
  toRecord: number[];
  /** The workflow ids of the journeys, in order, for reading histories. */
  workflowIds: string[];
}

const REPLY_WAIT_MS = 10 * 60_000;

/**
 * Runs N bare journeys the way the benchmark runs Optinflow's: start all (the client, `concurrency`
 * at a time), wait until every request is done, send every reply (a signal from the client), wait
 * until every confirmation is done.
 */
export async function runBarePass(stack: BenchStack, worker: BareWorker, o: { name: string; pass: string; count: number; concurrency: number; timeoutMs: number }): Promise<PassFigures> {
  const ids = Array.from({ length: o.count }, (_, i) => bareJourneyWorkflowId(o.pass, i));
  const startedAt = new Map<string, number>();
  const repliedAt = new Map<string, number>();
  const t0 = Date.now();
  await mapLimit(ids, o.concurrency, async (workflowId) => {
    startedAt.set(workflowId, Date.now());
    await stack.client.workflow.start(bareJourneyWorkflowRef.type, { workflowId, taskQueue: worker.taskQueue, args: [{ waitForMs: REPLY_WAIT_MS }] });
  });
  const acceptedMs = Date.now() - t0;
  const done = (step: BareStep) => ids.filter((id) => worker.steps[step].has(id)).length;
  await waitForCount(() => done('requested'), o.count, { timeoutMs: o.timeoutMs, intervalMs: 100, what: 'bare requests' });
  const requestsMs = Math.max(...ids.map((id) => worker.steps.requested.get(id)!)) - t0;

  const tReply = Date.now();
  await mapLimit(ids, o.concurrency, async (workflowId) => {
    repliedAt.set(workflowId, Date.now());
    await stack.client.workflow.getHandle(workflowId).signal(bareReplySignal, { decision: 'confirm', receivedAt: new Date().toISOString() });
  });
  await waitForCount(() => done('confirmed'), o.count, { timeoutMs: o.timeoutMs, intervalMs: 100, what: 'bare confirmations' });
  const confirmationsMs = Math.max(...ids.map((id) => worker.steps.confirmed.get(id)!)) - tReply;
  return {
    name: o.name,
    count: o.count,
    acceptedMs,
    requestsMs,
    confirmationsMs,
    toRequest: ids.map((id) => worker.steps.requested.get(id)! - startedAt.get(id)!),
    toRecord: ids.map((id) => (worker.steps.recorded.get(id) ?? NaN) - repliedAt.get(id)!),
    workflowIds: ids,
  };
}
