/**
 * `npm run bench:export`: GET /v1/consents/export of a category's opted-in segment of EXPORT_CONSENTS
 * (default 100,000) contacts, through the real API process, reading the answer as it streams. Prints
 * the time, rows per second and the API process's resident memory before and at its peak during the
 * export (sampled every 50 ms from /proc, once the API's report sweep has taken in the seeded ledger),
 * and the same through a second API process started after the seeding; then the previous design on the same API (consents without
 * their proof's export fields, a ledger lookup per row; skip with --no-previous); then two baselines over the same documents in this process:
 * a raw cursor that reads the consents and drops them (the floor for time), and the naive export,
 * `find().lean()` of every consent and its ledger event into memory (what the streaming avoids).
 * Run with --expose-gc (the npm script does) it also prints the live heap of the same export in
 * this process, which tells what the export keeps alive from garbage not yet collected.
 * Uses its own Temporal and FerretDB unless TEMPORAL_ADDRESS / MONGODB_URI name running ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportProofOf } from '../domain/consent-export';
import { loadBusinesses } from '../lib/businesses';
import { consentExport } from '../services/exports';
import { contactIdOf } from '../store/models';
import { findFreePort } from '../dev/free-port';
import { httpOk, waitUntil } from '../dev/processes';
import { startBenchStack, type BenchStack } from './stack';

const CONSENTS = Number(process.env.EXPORT_CONSENTS || 100_000);
const SEED_BATCH = 5_000;
const MiB = 1_048_576;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function seed(stack: BenchStack, now: number): Promise<void> {
  const db = stack.store.connection;
  for (let start = 0; start < CONSENTS; start += SEED_BATCH) {
    const consents = [];
    const events = [];
    for (let i = start; i < Math.min(CONSENTS, start + SEED_BATCH); i++) {
      const phone = `+1415${String(2_000_000 + i).padStart(7, '0')}`;
      const contactId = contactIdOf('acme', phone);
      const journeyId = `journey.acme.${contactId}:run`;
      const eventId = `${journeyId}:offers:opted_in`;
      const at = new Date(now - (i % 30) * 86_400_000);
      events.push({ _id: eventId, businessId: 'acme', contactId, phone, category: 'offers', type: 'opted_in', at, recordedAt: at, proof: { method: 'sms_reply', channel: 'sms', journeyId, source: { kind: 'campaign', reference: 'bench' }, inbound: { Body: 'YES', From: phone } } });
      // As the product writes them: the consent keeps its proof's export fields.
      const proofSummary = exportProofOf(events[events.length - 1].proof);
      consents.push({ _id: `${contactId}:offers`, businessId: 'acme', contactId, phone, category: 'offers', status: 'opted_in', since: at, lastEventId: eventId, journeyId, proofSummary });
    }
    await db.collection('consent_events').insertMany(events as never[], { ordered: false });
    await db.collection('consents').insertMany(consents as never[], { ordered: false });
  }
}

/**
 * Waits until the API's report sweep has taken in the seeded ledger and is not running: it reads the
 * new events 60 s after the API starts (during the seeding), and its RSS is not the export's.
 */
async function sweepsQuiet(stack: BenchStack): Promise<void> {
  const until = Date.now() + 10 * 60_000;
  for (;;) {
    const health = (await (await fetch(`${stack.apiUrl}/healthz`)).json()) as { sweeps?: { name: string; lastRunAt?: string; lastOkAt?: string }[] };
    const report = health.sweeps?.find((s) => s.name === 'report_days');
    if (report?.lastOkAt && report.lastRunAt && report.lastOkAt >= report.lastRunAt) return;
    if (Date.now() > until) throw new Error('the API report sweep did not finish within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Streams the export, keeping nothing but counts, while sampling the API's memory. */
async function timedExport(stack: BenchStack, api = { url: stack.apiUrl, pid: stack.pids.api }): Promise<{ ms: number; rows: number; bytes: number; trailer: string; rssBefore: number; rssPeak: number }> {
  if (api.pid === stack.pids.api) await sweepsQuiet(stack);
  const rssBefore = rssMiB(api.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMiB(api.pid));
  }, 50);
  const began = Date.now();
  try {
    const res = await fetch(`${api.url}/v1/consents/export?businessId=acme&status=opted_in&category=offers&format=ndjson`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
    let bytes = 0;
    let lines = 0;
    let tail = Buffer.alloc(0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      tail = Buffer.concat([tail, chunk]).subarray(-400);
    }
    const text = tail.toString('utf8').trimEnd();
    const trailer = text.slice(text.lastIndexOf('\n') + 1);
    return { ms: Date.now() - began, rows: lines - 1, bytes, trailer, rssBefore, rssPeak: Math.max(rssPeak, rssMiB(api.pid)) };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * A second API process started after the seeding: its heap has only ever held the export, where the
 * stack's API has also held the report sweep's pass over the seeded ledger. Its own report sweep
 * starts 60 s after it does, so an export that takes longer than that is not its alone.
 */
async function freshApi(stack: BenchStack): Promise<{ url: string; pid: number; startedAt: number }> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const child = stack.startProcess('api-fresh', path.join(__dirname, '..', 'api', 'server.ts'), { API_PORT: String(port), PUBLIC_BASE_URL: url });
  await waitUntil(() => httpOk(`${url}/healthz`).catch(() => false), { timeoutMs: 120_000, intervalMs: 250, what: 'the second API to be healthy', process: child });
  return { url, pid: child.child.pid!, startedAt: Date.now() };
}

/** Runs `f` while sampling this process's resident memory. */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; ms: number; rssGrowth: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const began = Date.now();
  try {
    const value = await f();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, ms: Date.now() - began, rssGrowth: (peak - before) / MiB };
  } finally {
    clearInterval(sampler);
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    const now = Date.now();
    const seedStart = Date.now();
    const apiRssAtStart = rssMiB(stack.pids.api);
    await seed(stack, now);
    process.stdout.write(`seeded ${CONSENTS} consents and their ledger events in ${fmt((Date.now() - seedStart) / 1000)} s\n`);
    await sweepsQuiet(stack);
    // Not the export's: the API's own report sweep read the seeded ledger in the meantime.
    process.stdout.write(`API RSS ${fmt(apiRssAtStart)} MiB before the seeding, ${fmt(rssMiB(stack.pids.api))} MiB once its report sweep had read the seeded ledger (peak so far ${fmt(stack.peakRssMiB().api)} MiB)\n`);
    const query = { businessId: 'acme', status: 'opted_in' as const, category: 'offers' };

    const exported = (label: string, e: Awaited<ReturnType<typeof timedExport>>) =>
      process.stdout.write(
        `${label}: ${e.rows} rows, ${fmt(e.bytes / MiB)} MiB in ${fmt(e.ms / 1000)} s (${Math.round(e.rows / (e.ms / 1000))} rows/s); API RSS ${fmt(e.rssBefore)} -> peak ${fmt(e.rssPeak)} MiB (+${fmt(e.rssPeak - e.rssBefore)} MiB); trailer ${e.trailer}\n`,
      );
    const e = await timedExport(stack);
    exported('export (API, streamed NDJSON, proof fields on the consents)', e);
    const fresh = await freshApi(stack);
    const f = await timedExport(stack, fresh);
    exported('the same export through a second API process started after the seeding', f);
    if (Date.now() - fresh.startedAt > 55_000) process.stdout.write('  (that export outlasted the second API\'s first 60 s, when its own report sweep starts: its figure includes the sweep)\n');

    // The API's RSS counts garbage V8 has not collected yet; in this process, with --expose-gc, the
    // same export (the service, no HTTP) shows what it keeps alive: the heap after a full GC.
    if (global.gc) {
      global.gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapMax = heapBefore;
      let batches = 0;
      const began = Date.now();
      const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
      for await (const chunk of consentExport({ store: stack.store, businesses: loadBusinesses(path.join(__dirname, '..', 'config', 'businesses.demo.json')) }, { ...query, format: 'ndjson' }, quiet)) {
        if (chunk && ++batches % 20 === 0) {
          global.gc();
          heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
        }
      }
      global.gc();
      process.stdout.write(`export in this process (service, no HTTP): ${batches} chunks in ${fmt((Date.now() - began) / 1000)} s; live heap after GC ${fmt(heapBefore / MiB)} MiB before, at most ${fmt(heapMax / MiB)} MiB during, ${fmt(process.memoryUsage().heapUsed / MiB)} MiB after\n`);
    }

    if (!process.argv.includes('--no-previous')) {
      // The previous design, on the same API process after the export above: consents without their
      // proof's fields, each joined to its ledger event by an `_id` lookup. A process already grown by
      // the first export grows less, so this understates the previous design's cost.
      await stack.store.connection.collection('consents').updateMany({ businessId: 'acme' }, { $unset: { proofSummary: '' } });
      exported('previous design (API, ledger lookup per row, same process afterwards)', await timedExport(stack));
    }

    const raw = await measured(async () => {
      let n = 0;
      for await (const doc of stack.store.consents.find(query).lean().batchSize(1_000).cursor()) if (doc) n++;
      return n;
    });
    process.stdout.write(`baseline, raw cursor over the consents (no ledger join, no HTTP): ${raw.value} docs in ${fmt(raw.ms / 1000)} s; this process +${fmt(raw.rssGrowth)} MiB\n`);

    const naive = await measured(async () => {
      // Everything into memory, joined in a Map (an `_id: { $in }` of 100,000 ids is past what the embedded FerretDB serves from its index).
      const consents = await stack.store.consents.find(query).lean();
      const events = new Map((await stack.store.consentEvents.find({ businessId: 'acme', category: 'offers', type: 'opted_in' }).lean()).map((e) => [e._id, e]));
      return { consents: consents.length, events: consents.filter((c) => events.has(c.lastEventId)).length };
    });
    process.stdout.write(`baseline, find().lean() of every consent and its ledger event into memory: ${naive.value.consents} + ${naive.value.events} docs in ${fmt(naive.ms / 1000)} s; this process +${fmt(naive.rssGrowth)} MiB\n`);
    process.stdout.write(`peak RSS (MiB): ${JSON.stringify(stack.peakRssMiB())}\n`);
  } finally {
    await stack.store.connection.dropDatabase().catch(() => undefined);
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
