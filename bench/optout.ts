import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import type { CarrierMessage } from '../dev/carrier/types';
import { contactIdOf } from '../store/models';
import { compareWithBare, runBareOptOuts } from './optout-bare';
import { currentProfile, profilesOption, reportSummary, runProfiles } from './profiles';
import { printActionCounts, printWhereTimeWent } from './optout-histories';
import { carryingJourneys, printCarriedTimeline } from './optout-carried';
import { cpuPhaseTable, startPhase, type CpuPhase } from './cpu-times';
import { positiveInt } from './helpers';
import { describeCommandsPer, readCommandCounts } from './store-commands';
import { reportOptOuts, type ContactRun } from './optout-report';
import { startBenchStack, type BenchStack } from './stack';

/**
 * npm run bench:optout -- --count 2000 --rate 200 [--profiles dev,cluster]
 *
 * Starts the bench stack (./stack.ts), as bench:journeys does: Temporal (the dev server, or the cluster
 * with OPTINFLOW_TEMPORAL_PROFILE=cluster) and FerretDB unless TEMPORAL_ADDRESS / MONGODB_URI name
 * running ones, the carrier in this process, the worker and the API as child processes, so each has
 * its own event loop and its own memory figure. Starts one journey per contact with reminders, waits
 * until every contact has its request (--stop-at-once: does not), then sends each contact's STOP
 * through the signed messaging webhook at the chosen rate while those journeys run. Prints p50/p99 from the STOP to: webhook acknowledged, ledger written, journey ended,
 * confirmation at the carrier; and how many messages the carrier got for a contact after its
 * acknowledgement other than the one confirmation (must be 0). Then, on the same server, the bare
 * baseline (./optout-bare.ts, its worker in this process) at the same count and rate, and the ratio;
 * and the peak RSS of the worker, the API, Temporal and this process. Loopback only; bounded in count and time.
 */

const SMS_SENDER = '+15005550006';
const AREA_CODES = ['415', '650', '212', '312', '617'];

interface Options {
  count: number;
  rate: number;
  remindEvery: number;
  timeout: number;
  stopAtOnce?: boolean;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench:optout')
    .option('--count <n>', 'contacts, each with a running journey and one STOP', positiveInt('count'), 2000)
    .option('--rate <per-second>', 'STOPs sent per second', positiveInt('rate'), 200)
    .option('--remind-every <seconds>', 'seconds between a journey\'s reminders', positiveInt('remind-every'), 30)
    .option('--timeout <seconds>', 'give up waiting for confirmations after this long', positiveInt('timeout'), 600)
    .option('--stop-at-once', 'send the STOPs as soon as the journeys are started, before their requests have gone out (how the bench ran before 2026-12-04)')
    .option('--profiles <list>', 'run once per Temporal profile (dev, cluster) and print them side by side (bench/profiles.ts)')
    .parse(argv);
  const o = program.opts<Options>();
  if (o.count > AREA_CODES.length * 10_000) throw new Error(`--count is at most ${AREA_CODES.length * 10_000}`);
  return o;
}

const phoneOf = (i: number) => `+1${AREA_CODES[Math.floor(i / 10_000)]}555${String(i % 10_000).padStart(4, '0')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs fn over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export interface OptOutFigures {
  ok: boolean;
  ack: number[];
  ledger: number[];
  ended: number[];
  confirmation: number[];
}

async function run(stack: BenchStack, o: Options, phases: CpuPhase[]): Promise<OptOutFigures> {
  const groups = stack.processGroups();
  const journeysPhase = startPhase(groups);
  const contacts: ContactRun[] = Array.from({ length: o.count }, (_, i) => ({ phone: phoneOf(i), contactId: contactIdOf('acme', phoneOf(i)) }));
  const outbound = new Map<string, CarrierMessage[]>();
  const refreshOutbound = () => {
    outbound.clear();
    for (const m of stack.carrier.messages()) {
      if (m.direction === 'inbound') continue;
      const list = outbound.get(m.contact) ?? [];
      list.push(m);
      outbound.set(m.contact, list);
    }
  };
  const isConfirmation = (m: CarrierMessage) => m.body.includes('you are unsubscribed');

  const every = o.remindEvery;
  const plan = [{ channel: 'sms', waitFor: '30m', remindAfter: [1, 2, 3, 4, 5].map((k) => `${k * every}s`) }];
  const journeysStarted = Date.now();
  let refusedStarts = 0;
  await pool(contacts, 32, async (c) => {
    const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: c.phone }, categories: ['offers', 'order_updates'], plan });
    if (r.status !== 202) refusedStarts++;
  });
  console.log(`started ${o.count - refusedStarts} journeys in ${((Date.now() - journeysStarted) / 1000).toFixed(1)} s (reminders every ${every} s)`);
  if (!o.stopAtOnce) {
    // A STOP answers a message: each contact has its request before anyone replies, as in life.
    const asked = () => new Set(stack.carrier.messages().filter((m) => m.direction !== 'inbound').map((m) => m.contact)).size;
    const waitUntil = Date.now() + o.timeout * 1000;
    while (asked() < contacts.length && Date.now() < waitUntil) await sleep(500);
    console.log(`${asked()} requests at the carrier ${((Date.now() - journeysStarted) / 1000).toFixed(1)} s after the first start; the STOPs go out now`);
  }

  phases.push(journeysPhase.end('journeys start'));
  const stopsPhase = startPhase(groups);
  const commandsBefore = await readCommandCounts(stack.storeMetricsUrl);
  const stopsStarted = Date.now();
  const interval = 1000 / o.rate;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < contacts.length; i++) {
    const due = stopsStarted + i * interval;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const c = contacts[i];
    c.stopAt = Date.now();
    inFlight.push(
      stack.carrier.sendInbound({ from: c.phone, to: SMS_SENDER, body: 'STOP' }).then(
        (r) => {
          c.ackAt = Date.now();
          c.ackStatus = r.status;
          c.connection = r.connection;
        },
        () => {
          c.ackStatus = 0;
        },
      ),
    );
  }
  const fireSeconds = (Date.now() - stopsStarted) / 1000;
  await Promise.all(inFlight);
  console.log(`fired ${o.count} STOPs in ${fireSeconds.toFixed(1)} s (${(o.count / fireSeconds).toFixed(0)}/s); the last was answered after ${((Date.now() - stopsStarted) / 1000).toFixed(1)} s`);

  const deadline = Date.now() + o.timeout * 1000;
  for (;;) {
    refreshOutbound();
    const confirmed = contacts.filter((c) => (outbound.get(c.phone) ?? []).some(isConfirmation)).length;
    if (confirmed === contacts.length) break;
    if (Date.now() > deadline) {
      console.log(`timed out: ${confirmed}/${contacts.length} confirmations at the carrier`);
      break;
    }
    await sleep(500);
  }
  phases.push(stopsPhase.end('STOPs'));
  const commandsDuring = describeCommandsPer(commandsBefore, await readCommandCounts(stack.storeMetricsUrl), o.count);
  // Longer than the gap between reminders: a journey still running after its opt-out would have sent by now.
  await sleep(every * 1000 + 1000);
  refreshOutbound();

  const { ack, ledger, ended, confirmation, afterOptOut, duplicateConfirmations } = await reportOptOuts(stack, contacts, outbound, isConfirmation, `opt-out bench: ${o.count} STOPs at ${o.rate}/s through the signed webhook while ${o.count} journeys run`);

  console.log(`store commands per STOP from the first STOP to the last confirmation (API, worker, the running journeys' reminders included): ${commandsDuring}`);
  const stopAt = new Map(contacts.filter((c) => c.stopAt).map((c) => [c.contactId, c.stopAt!]));
  const carried = await carryingJourneys(stack, 'acme', stopAt.keys());
  console.log(`\nopt-outs carried by their journey: ${carried.size} of ${stopAt.size}; the rest ran a workflow of their own`);
  await printWhereTimeWent(stack, stopAt);
  printCarriedTimeline(carried, stopAt);
  await printActionCounts(stack, carried, 'acme');

  const complete = ack.length === o.count && ledger.length === o.count && ended.length === o.count && confirmation.length === o.count;
  return { ok: complete && afterOptOut === 0 && duplicateConfirmations === 0, ack, ledger, ended, confirmation };
}


async function main(): Promise<void> {
  const { profiles, rest } = profilesOption(process.argv);
  if (profiles) {
    parseOptions(rest); // refuse bad options before starting any server
    process.exit(await runProfiles(__filename, rest.slice(2), profiles, 'bare'));
  }
  const o = parseOptions(process.argv);
  let stack: BenchStack | undefined;
  let ok: boolean;
  try {
    stack = await startBenchStack();
    const phases: CpuPhase[] = [];
    const figures = await run(stack, o, phases);
    ok = figures.ok;
    console.log(`\nthe bare baseline on the same server: ${o.count} bare journeys, one signal each at ${o.rate}/s`);
    const groups = stack.processGroups();
    let barePhase = startPhase(groups);
    const onSignalsStart = () => void (barePhase = startPhase(groups));
    const bare = await runBareOptOuts(stack.client, { temporalAddress: stack.temporalAddress, taskQueue: `${stack.taskQueue}-bare`, count: o.count, rate: o.rate, timeoutMs: o.timeout * 1000, onSignalsStart });
    phases.push(barePhase.end('bare signals'));
    console.log('');
    for (const line of cpuPhaseTable(phases, availableParallelism())) console.log(line);
    console.log('(journeys start: from the first start to every request at the carrier; STOPs: from the first STOP to the last confirmation at the carrier, reminders included; bare signals: the bare pass from its first signal to its last message step, its worker in the bench process)');
    reportSummary({ profile: currentProfile(), rows: compareWithBare(figures, bare), notes: [`${o.count} STOPs at ${o.rate}/s, reminders every ${o.remindEvery} s; the bare pass runs after Optinflow's`] });
    const rss = stack.peakRssMiB();
    const temporal = rss.temporal === undefined ? 'external' : `${rss.temporal}${currentProfile() === 'cluster' ? ' (the five server processes summed)' : ''}`;
    console.log(`peak RSS MiB: worker ${rss.worker}; api ${rss.api}; temporal ${temporal}; bench process (carrier + bare worker) ${rss.bench}`);
  } finally {
    await stack?.stop().catch((err) => console.error('stopping the stack failed:', err));
  }
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
