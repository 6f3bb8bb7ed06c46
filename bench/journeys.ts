import { Command } from 'commander';
import { waitUntil } from '../dev/processes';
import { IN_PROGRESS_STATUSES } from '../services/messaging';
import { contactIdOf } from '../store/models';
import { inboundWorkflowId } from '../workflows/inbound/contract';
import { journeyWorkflowId } from '../workflows/journey/contract';
import { printCosts, summarize, unitCost, type CostSummary, type UnitCost } from './actions';
import { endToEndMs, printFigures, summaryRows } from './journeys-figures';
import { runBarePass, startBareWorker, type PassFigures } from './bare/run';
import { waitForCount } from './progress';
import { cpuPer, cpuTable, readCpu, type CpuReading } from './cpu-times';
import { describeCommandsPer, readCommandCounts, totalCommandsPer } from './store-commands';
import { currentProfile, profilesOption, reportSummary, runProfiles } from './profiles';
import { mapLimit, positiveInt } from './helpers';
import { peakRssMiB, startBenchStack, type BenchStack } from './stack';

/**
 * npm run bench:journeys -- [--count 1000] [--concurrency 32] [--bare both|before|after] [--sample 20] [--profiles dev,cluster]
 *
 * On one embedded stack: N SMS journeys through the API, each answered YES through the carrier's
 * signed webhook, and N bare journeys of the same shape (./bare: request → wait for the reply →
 * record → confirmation, steps that do nothing) on their own worker and task queue, started and
 * answered through the Temporal client. Prints both sets of figures and their ratio, then what a
 * confirmed journey costs Temporal, read from the histories of a sample of each. Not a test: it
 * asserts nothing.
 */

const BUSINESS = 'acme';
const SMS_SENDER = '+15005550006';
const POLL_MS = 250;
const MAX_START_ATTEMPTS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Options {
  count: number;
  concurrency: number;
  bare: 'both' | 'before' | 'after';
  sample: number;
  timeout: number;
}

function parseOptions(argv: string[]): Options {
  const o = new Command('bench:journeys')
    .option('--count <n>', 'journeys of each design', positiveInt('count'), 1000)
    .option('--concurrency <n>', 'starts and replies in flight at once', positiveInt('concurrency'), 32)
    .option('--bare <when>', 'run the bare baseline before Optinflow, after it, or both (a pass on each side)', 'both')
    .option('--sample <n>', 'confirmed journeys of each design whose histories are counted', positiveInt('sample'), 20)
    .option('--timeout <seconds>', 'give up on a phase after this long', positiveInt('timeout'), 600)
    .option('--profiles <list>', 'run once per Temporal profile (dev, cluster) and print them side by side (bench/profiles.ts)')
    .parse(argv)
    .opts<Options>();
  if (!['both', 'before', 'after'].includes(o.bare)) throw new Error(`--bare must be both, before or after (got "${o.bare}")`);
  if (o.count > 10_000) throw new Error('--count is at most 10000');
  return o;
}

const phoneOf = (i: number) => `+1415555${String(i).padStart(4, '0')}`;

/** Runs N Optinflow journeys: started through the API, answered YES through the signed messaging webhook. */
async function runOptinflowPass(stack: BenchStack, o: Options): Promise<PassFigures> {
  const phones = Array.from({ length: o.count }, (_, i) => phoneOf(i));
  const startedAt = new Map<string, number>();
  const repliedAt = new Map<string, number>();
  let startsRetried = 0;
  const t0 = Date.now();
  await mapLimit(phones, o.concurrency, async (phone) => {
    startedAt.set(phone, Date.now());
    for (let attempt = 1; ; attempt++) {
      const r = await stack.request('POST', '/v1/journeys', { businessId: BUSINESS, contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '10m' }] });
      if (r.status === 202 || r.status === 200) return;
      // A 503 says Temporal did not answer in time and to try again after Retry-After, as a caller of the API would.
      if (r.status !== 503 || attempt >= MAX_START_ATTEMPTS) throw new Error(`start ${phone}: ${r.status} ${JSON.stringify(r.body)}`);
      startsRetried++;
      await sleep((r.retryAfterSeconds ?? 1) * 1000);
    }
  });
  const acceptedMs = Date.now() - t0;
  if (startsRetried > 0) console.log(`  Optinflow: the API answered 503 (Temporal did not answer within its deadline) ${startsRetried} times; those starts were sent again after Retry-After`);

  // The first message the carrier got for each contact: its opt-in request (then its WhatsApp confirmation).
  const firstAt = (channel: 'sms' | 'whatsapp') => {
    const at = new Map<string, number>();
    for (const m of stack.carrier.messages({ channel, direction: 'outbound-api' })) {
      const t = Date.parse(m.createdAt);
      if (t < (at.get(m.contact) ?? Infinity)) at.set(m.contact, t);
    }
    return at;
  };
  let requestAt = new Map<string, number>();
  await waitForCount(() => (requestAt = firstAt('sms')).size, o.count, { timeoutMs: o.timeout * 1000, intervalMs: POLL_MS, what: 'opt-in requests at the carrier' });
  const requestsMs = Math.max(...requestAt.values()) - t0;

  const tReply = Date.now();
  await mapLimit(phones, o.concurrency, async (phone) => {
    repliedAt.set(phone, Date.now());
    const r = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' });
    if (r.status !== 200) throw new Error(`reply ${phone}: webhook answered ${r.status}`);
  });
  let confirmationAt = new Map<string, number>();
  await waitForCount(() => (confirmationAt = firstAt('whatsapp')).size, o.count, { timeoutMs: o.timeout * 1000, intervalMs: POLL_MS, what: 'WhatsApp confirmations at the carrier' });
  const confirmationsMs = Math.max(...confirmationAt.values()) - tReply;

  const consentAt = new Map<string, number>();
  for (const c of await stack.store.consents.find({ businessId: BUSINESS }).lean()) consentAt.set(c.phone, new Date(c.createdAt as Date).getTime());
  return {
    name: 'Optinflow',
    count: o.count,
    acceptedMs,
    requestsMs,
    confirmationsMs,
    toRequest: phones.map((p) => requestAt.get(p)! - startedAt.get(p)!),
    toRecord: phones.map((p) => (consentAt.get(p) ?? NaN) - repliedAt.get(p)!),
    workflowIds: phones.map((p) => journeyWorkflowId(BUSINESS, contactIdOf(BUSINESS, p))),
  };
}

/** Waits until no workflow of the task queue runs, so a pass's tail (last writes, late signals) does not load the next one. */
async function settle(stack: BenchStack, taskQueue: string, o: Options): Promise<void> {
  const query = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  await waitUntil(async () => (await stack.client.workflow.count(query)).count === 0, { timeoutMs: o.timeout * 1000, intervalMs: 500, what: `every workflow on ${taskQueue} to close` });
}


/** Evenly spread over the run, so early and late journeys both count. */
function sampleOf<T>(items: T[], n: number): T[] {
  const k = Math.min(n, items.length);
  return Array.from({ length: k }, (_, j) => items[Math.floor((j * items.length) / k)]);
}

async function printActionCounts(stack: BenchStack, optinflow: PassFigures, bare: PassFigures, o: Options): Promise<{ optinflow: CostSummary; bare: CostSummary }> {
  const phones = sampleOf(Array.from({ length: optinflow.count }, (_, i) => phoneOf(i)), o.sample);
  const optinflowUnits: UnitCost[] = [];
  let finalStatuses = 0;
  let statusSignals = 0;
  for (const phone of phones) {
    const inbound = stack.carrier.messages({ contact: phone, direction: 'inbound' });
    const unit = await unitCost(stack.client, [journeyWorkflowId(BUSINESS, contactIdOf(BUSINESS, phone))], inbound.map((m) => inboundWorkflowId(m.sid)));
    optinflowUnits.push(unit);
    for (const m of stack.carrier.messages({ contact: phone, direction: 'outbound-api' })) {
      finalStatuses += m.callbacks.filter((c) => c.params.MessageStatus && !IN_PROGRESS_STATUSES.has(c.params.MessageStatus)).length;
    }
    statusSignals += unit.workflows.flatMap((w) => [...w.items]).filter(([k]) => k.startsWith('signal providerStatus')).reduce((s, [, v]) => s + v, 0);
  }
  const bareUnits: UnitCost[] = [];
  for (const id of sampleOf(bare.workflowIds, o.sample)) bareUnits.push(await unitCost(stack.client, [id]));

  const costs = { optinflow: summarize(optinflowUnits), bare: summarize(bareUnits) };
  printCosts('Temporal per confirmed SMS journey, from the histories of every workflow it caused (mean over the sample):', [
    { name: 'Optinflow', summary: costs.optinflow },
    { name: 'bare', summary: costs.bare },
  ]);
  const n = Math.max(1, phones.length);
  console.log(
    `  delivery reports: ${(finalStatuses / n).toFixed(2)} final statuses posted per journey, ${(statusSignals / n).toFixed(2)} reached it as signals ` +
      '(only a failed delivery is signalled to its journey; the others are kept in the store as delivery reports)',
  );
  console.log('  billable actions = workflows started + activity attempts + workflow tasks with local-activity markers + signals + timers + upserts + updates (see bench/actions.ts)');
  return costs;
}

async function main(): Promise<void> {
  const { profiles, rest } = profilesOption(process.argv);
  if (profiles) {
    parseOptions(rest); // refuse bad options before starting any server
    process.exitCode = await runProfiles(__filename, rest.slice(2), profiles, 'bare');
    return;
  }
  const o = parseOptions(process.argv);
  const stack = await startBenchStack();
  try {
    const bareWorker = await startBareWorker(stack);
    const order = { both: 'bare, Optinflow, bare', before: 'bare, then Optinflow', after: 'Optinflow, then bare' }[o.bare];
    console.log(`bench:journeys: ${o.count} journeys per pass, ${o.concurrency} starts and replies in flight; order: ${order}`);
    const passes: PassFigures[] = [];
    const groups = { ...stack.processGroups(), 'bare worker': [bareWorker.pid] };
    const cpu: Array<{ name: string; cpu: CpuReading }> = [];
    const bare = async (name: string, pass: string) => {
      const before = readCpu(groups);
      const p = await runBarePass(stack, bareWorker, { name, pass, count: o.count, concurrency: o.concurrency, timeoutMs: o.timeout * 1000 });
      await settle(stack, bareWorker.taskQueue, o);
      cpu.push({ name, cpu: cpuPer(before, readCpu(groups), o.count) });
      console.log(`  ${name}: ${(endToEndMs(p) / 1000).toFixed(1)} s end to end`);
      passes.push(p);
    };
    if (o.bare !== 'after') await bare(o.bare === 'both' ? 'bare (1st)' : 'bare', 'first');
    const commandsBefore = await readCommandCounts(stack.storeMetricsUrl);
    const cpuBefore = readCpu(groups);
    const optinflow = await runOptinflowPass(stack, o);
    await settle(stack, stack.taskQueue, o);
    const cpuAfter = readCpu(groups);
    const commandsAfter = await readCommandCounts(stack.storeMetricsUrl);
    cpu.push({ name: 'Optinflow', cpu: cpuPer(cpuBefore, cpuAfter, o.count) });
    console.log(`  Optinflow: ${(endToEndMs(optinflow) / 1000).toFixed(1)} s end to end`);
    passes.push(optinflow);
    if (o.bare !== 'before') await bare(o.bare === 'both' ? 'bare (2nd)' : 'bare', 'second');

    const rss = stack.peakRssMiB();
    const bareRss = peakRssMiB(bareWorker.pid);
    printFigures(passes, order, { optinflow: rss.worker, bare: bareRss, api: rss.api, temporal: rss.temporal, bench: rss.bench });
    const costs = await printActionCounts(stack, optinflow, passes.find((p) => p !== optinflow)!, o);
    console.log('');
    for (const line of cpuTable(cpu, o.count)) console.log(line);
    console.log(`store commands per journey over the Optinflow pass (API, worker and their sweeps; the bare design has none): ${describeCommandsPer(commandsBefore, commandsAfter, o.count)}`);
    reportSummary({
      profile: currentProfile(),
      rows: summaryRows(passes, { optinflow: rss.worker, bare: bareRss, temporal: rss.temporal }, costs, totalCommandsPer(commandsBefore, commandsAfter, o.count)),
      notes: [`${o.count} journeys per pass, ${o.concurrency} in flight, order ${order}; Temporal peak RSS: the dev server's process, or the cluster's five server processes summed (PostgreSQL not counted)`],
    });
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
