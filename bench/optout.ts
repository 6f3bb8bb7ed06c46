import { Command } from 'commander';
import type { CarrierMessage } from '../dev/carrier/types';
import { OPTOUT_BLOCK_WAIT_MS } from '../services/optouts';
import { contactIdOf } from '../store/models';
import { compareWithBare, runBareOptOuts } from './optout-bare';
import { currentProfile, profilesOption, reportSummary, runProfiles } from './profiles';
import { printActionCounts, printWhereTimeWent } from './optout-histories';
import { percentile, positiveInt } from './helpers';
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

interface ContactRun {
  phone: string;
  contactId: string;
  stopAt?: number;
  ackAt?: number;
  ackStatus?: number;
  /** Whether the carrier sent the STOP over a new connection or a kept-alive one. */
  connection?: 'new' | 'reused';
}

export interface OptOutFigures {
  ok: boolean;
  ack: number[];
  ledger: number[];
  ended: number[];
  confirmation: number[];
}

async function run(stack: BenchStack, o: Options): Promise<OptOutFigures> {
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
  // Longer than the gap between reminders: a journey still running after its opt-out would have sent by now.
  await sleep(every * 1000 + 1000);
  refreshOutbound();

  const ids = contacts.map((c) => c.contactId);
  const [events, journeys, refusedSends] = await Promise.all([
    stack.store.consentEvents.find({ businessId: 'acme', contactId: { $in: ids }, type: 'opted_out' }).lean(),
    stack.store.journeys.find({ businessId: 'acme', contactId: { $in: ids } }).lean(),
    stack.store.outbox.countDocuments({ businessId: 'acme', status: 'refused' }),
  ]);
  const ledgerAt = new Map<string, number>();
  for (const e of events) {
    const at = Date.parse(String((e.proof as { recordedAt?: string }).recordedAt));
    ledgerAt.set(e.contactId, Math.max(ledgerAt.get(e.contactId) ?? 0, at));
  }
  const endedAt = new Map(journeys.filter((j) => j.status === 'opted_out' && j.endedAt).map((j) => [j.contactId, new Date(j.endedAt!).getTime()]));
  // The journey's workflow writes its state when it ends; the opt-out may have closed the record before (endedAt).
  const ownEndAt = new Map(journeys.filter((j) => j.status === 'opted_out' && j.state && j.updatedAt).map((j) => [j.contactId, new Date(j.updatedAt!).getTime()]));

  const ack: number[] = [];
  const ledger: number[] = [];
  const ended: number[] = [];
  const ownEnd: number[] = [];
  const confirmation: number[] = [];
  let afterOptOut = 0;
  let afterLateAck = 0;
  const examples: string[] = [];
  let remindersBeforeAck = 0;
  let duplicateConfirmations = 0;
  for (const c of contacts) {
    const msgs = outbound.get(c.phone) ?? [];
    if (c.ackAt && c.stopAt && c.ackStatus === 200) {
      ack.push(c.ackAt - c.stopAt);
      const after = msgs.filter((m) => Date.parse(m.createdAt) > c.ackAt! && !isConfirmation(m));
      afterOptOut += after.length;
      // An answer that took the whole block wait was given without the block (progress "pending").
      if (c.ackAt - c.stopAt >= OPTOUT_BLOCK_WAIT_MS) afterLateAck += after.length;
      for (const m of after.slice(0, 1)) if (examples.length < 3) examples.push(`${c.phone}: "${m.body.slice(0, 30)}" ${Date.parse(m.createdAt) - c.ackAt} ms after an answer that took ${c.ackAt - c.stopAt} ms`);
      remindersBeforeAck += msgs.filter((m) => m.body.startsWith('Reminder') && Date.parse(m.createdAt) >= c.stopAt! && Date.parse(m.createdAt) <= c.ackAt!).length;
    }
    const confirmations = msgs.filter(isConfirmation);
    if (confirmations.length > 1) duplicateConfirmations += confirmations.length - 1;
    if (!c.stopAt) continue;
    if (ledgerAt.has(c.contactId)) ledger.push(ledgerAt.get(c.contactId)! - c.stopAt);
    if (endedAt.has(c.contactId)) ended.push(endedAt.get(c.contactId)! - c.stopAt);
    if (ownEndAt.has(c.contactId)) ownEnd.push(ownEndAt.get(c.contactId)! - c.stopAt);
    if (confirmations[0]) confirmation.push(Date.parse(confirmations[0].createdAt) - c.stopAt);
  }

  const row = (name: string, xs: number[]) => {
    const f = (n: number) => (Number.isNaN(n) ? 'n/a' : String(Math.round(n))).padStart(8);
    return `${name.padEnd(24)}${f(percentile(xs, 50))}${f(percentile(xs, 99))}${f(percentile(xs, 100))}${String(xs.length).padStart(8)}`;
  };
  console.log('');
  console.log(`opt-out bench: ${o.count} STOPs at ${o.rate}/s through the signed webhook while ${o.count} journeys run`);
  console.log(`${'from the STOP to'.padEnd(24)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}${'n'.padStart(8)}`);
  console.log(row('webhook acknowledged', ack));
  // The API takes one new connection per turn of its event loop (docs/optout.md), so the two differ most under load.
  const ackOn = (kind: 'new' | 'reused') => contacts.filter((c) => c.connection === kind && c.ackStatus === 200).map((c) => c.ackAt! - c.stopAt!);
  console.log(row('  on a new connection', ackOn('new')));
  console.log(row('  on a kept-alive one', ackOn('reused')));
  console.log(row('ledger written', ledger));
  console.log(row('journey ended', ended));
  console.log(row("  its workflow's own end", ownEnd));
  console.log(row('confirmation sent', confirmation));
  console.log(`messages sent after an opt-out (must be 0): ${afterOptOut}${afterOptOut ? `, ${afterLateAck} of them after answers that gave up waiting for the block (${OPTOUT_BLOCK_WAIT_MS} ms)` : ''}`);
  for (const e of examples) console.log(`  e.g. ${e}`);
  console.log(`second confirmations (must be 0): ${duplicateConfirmations}`);
  const unanswered = contacts.filter((c) => c.ackStatus !== 200);
  console.log(`webhook answers other than 200: ${unanswered.length}${unanswered.length ? ` (${unanswered.filter((c) => c.connection === 'new').length} of them on new connections)` : ''}; STOPs sent on new connections: ${contacts.filter((c) => c.connection === 'new').length}`);
  // A STOP with no ledger event after the wait for confirmations never reached the API or was dropped by it.
  const lost = contacts.filter((c) => c.stopAt && !ledgerAt.has(c.contactId));
  console.log(`STOPs with no ledger event (lost; must be 0): ${lost.length}${lost.length ? `, ${lost.filter((c) => c.ackStatus === 200).length} of them answered 200` : ''}`);
  console.log(`reminders the carrier got between a STOP and its acknowledgement: ${remindersBeforeAck}; sends the gate refused: ${refusedSends}`);

  await printWhereTimeWent(stack, new Map(contacts.filter((c) => c.stopAt).map((c) => [c.contactId, c.stopAt!])));
  await printActionCounts(stack);

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
    const figures = await run(stack, o);
    ok = figures.ok;
    console.log(`\nthe bare baseline on the same server: ${o.count} bare journeys, one signal each at ${o.rate}/s`);
    const bare = await runBareOptOuts(stack.client, { temporalAddress: stack.temporalAddress, taskQueue: `${stack.taskQueue}-bare`, count: o.count, rate: o.rate, timeoutMs: o.timeout * 1000 });
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
