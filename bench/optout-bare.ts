import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadSandboxSettings } from '../config/config';
import { waitUntil } from '../dev/processes';
import { sandboxPreloads } from '../workers/bundle-options';
import { workerClassFor } from '../workers/workflow-guard';
import { createBareActivities } from './bare/activities';
import { bareJourneyWorkflowId, bareJourneyWorkflowRef, bareReplySignal, type BareStep } from './bare/contract';
import type { OptOutFigures } from './optout';
import type { SummaryRow } from './profiles';
import { mapLimit } from './helpers';

/**
 * The bare baseline of `bench:optout`, on the same Temporal server in the same run: N bare journeys
 * (bench/bare: request → wait for a reply → record → one message; steps that do nothing) on their
 * own worker in the benchmark's process (the product worker is a child process of the bench stack),
 * then one client signal to each at the benchmark's rate. The signal stands for the STOP: what Temporal and the SDK cost at least for "tell
 * a running workflow, record it, send one message", with no webhook, store or ledger.
 */

export interface BareOptOutFigures {
  /** Per contact, ms from the signal sent to: the server's answer, the record step done, the message step done. */
  acknowledged: number[];
  recorded: number[];
  confirmed: number[];
}

const REPLY_WAIT_MS = 30 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let runtimeInstalled = false;

export async function runBareOptOuts(
  client: Client,
  o: { temporalAddress: string; taskQueue: string; count: number; rate: number; timeoutMs: number; onSignalsStart?: () => void },
): Promise<BareOptOutFigures> {
  const steps: Record<BareStep, Map<string, number>> = { requested: new Map(), recorded: new Map(), confirmed: new Map() };
  // The SDK's default logger prints every worker state change into the benchmark's report.
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  // The same workflow guard as Optinflow's worker (WORKER_WORKFLOW_GUARD), so the two designs compare.
  const sandbox = loadSandboxSettings();
  const worker = await workerClassFor(sandbox.WORKER_WORKFLOW_GUARD).create({
    connection,
    namespace: client.options.namespace,
    taskQueue: o.taskQueue,
    workflowsPath: require.resolve('./bare/workflow'),
    bundlerOptions: { preloadModules: sandboxPreloads(sandbox.WORKER_WORKFLOW_STACK_TRACES === 'on') },
    activities: createBareActivities({ note: (step, workflowId) => steps[step].set(workflowId, Date.now()) }),
  });
  const running = worker.run();
  try {
    const pass = `optout-${Date.now().toString(36)}`;
    const ids = Array.from({ length: o.count }, (_, i) => bareJourneyWorkflowId(pass, i));
    await mapLimit(ids, 32, (workflowId) => client.workflow.start(bareJourneyWorkflowRef.type, { workflowId, taskQueue: o.taskQueue, args: [{ waitForMs: REPLY_WAIT_MS }] }));
    await waitUntil(() => steps.requested.size >= o.count, { timeoutMs: o.timeoutMs, intervalMs: 200, what: `${o.count} bare journeys waiting` });

    const sentAt = new Map<string, number>();
    const ackAt = new Map<string, number>();
    o.onSignalsStart?.();
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < ids.length; i++) {
      const wait = started + (i * 1000) / o.rate - Date.now();
      if (wait > 0) await sleep(wait);
      const id = ids[i];
      sentAt.set(id, Date.now());
      inFlight.push(
        client.workflow
          .getHandle(id)
          .signal(bareReplySignal, { decision: 'confirm', receivedAt: new Date().toISOString() })
          .then(() => void ackAt.set(id, Date.now())),
      );
    }
    await Promise.all(inFlight);
    await waitUntil(() => steps.confirmed.size >= o.count, { timeoutMs: o.timeoutMs, intervalMs: 200, what: `${o.count} bare confirmations` });
    const since = (at: Map<string, number>) => ids.filter((id) => at.has(id)).map((id) => at.get(id)! - sentAt.get(id)!);
    return { acknowledged: since(ackAt), recorded: since(steps.recorded), confirmed: since(steps.confirmed) };
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  }
}

function sortedQuantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Optinflow's opt-out beside the bare signal → record → message on the same server; the rows `--profiles` compares. */
export function compareWithBare(opt: Pick<OptOutFigures, 'ack' | 'ledger' | 'ended' | 'confirmation'>, bare: BareOptOutFigures): SummaryRow[] {
  const pairs: Array<[string, number[], number[] | undefined]> = [
    ['acknowledged', opt.ack, bare.acknowledged],
    ['recorded', opt.ledger, bare.recorded],
    ['journey ended', opt.ended, undefined],
    ['confirmation sent', opt.confirmation, bare.confirmed],
  ];
  const rows: SummaryRow[] = pairs.flatMap(([label, xs, base]) =>
    ([0.5, 0.99] as const).map((q) => ({ label: `${label} p${q * 100} ms`, value: sortedQuantile(xs, q), baseline: base ? sortedQuantile(base, q) : undefined })),
  );
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2)).padStart(12);
  console.log('');
  console.log('from the STOP (bare: the signal) to          bare   Optinflow  Optinflow/bare');
  for (const r of rows) console.log(`${r.label.padEnd(34)}${f(r.baseline)}${f(r.value)}${f(r.baseline ? r.value / r.baseline : undefined)}`);
  console.log('(bare: a client signal to a bare journey, its record step, its message step; acknowledged = the server answered the signal; Optinflow: the webhook answered, the ledger written, the confirmation at the carrier)');
  return rows;
}
