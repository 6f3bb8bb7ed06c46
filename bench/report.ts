/**
 * `npm run bench:report`: how long the consent report takes for a business with many contacts.
 * Seeds the store directly (no Temporal: the report only reads the store) with one journey per
 * contact over 30 days and the ledger events, opt-in requests and opt-out confirmations they would
 * have written, then times, in the same run over the same 30 whole days: the live computation (the
 * baseline, fresh=true), one run of the report_days sweep, the report from the daily figures (one read
 * per month), and the same figures read the way the first design kept them, one document per day (a
 * read by _id per day: the second baseline).
 * REPORT_CONTACTS (default 100000), REPORT_RUNS (daily, default 3), REPORT_LIVE_RUNS (default 1); MONGODB_URI for a real MongoDB, else
 * FerretDB is started in a temporary directory.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../dev/free-port';
import { startFerretDb } from '../dev/servers';
import { loadBusinesses } from '../lib/businesses';
import { mergeReportDays } from '../domain/consent-report';
import type { ReportDay } from '../domain/report-day';
import { refreshReportDays } from '../services/report-days';
import { consentReport } from '../services/reports';
import { connectStore, type Store } from '../store/models';
import { readFinalThrough, readReportDays } from '../store/report-days';

const repoRoot = path.resolve(__dirname, '..');
const CONTACTS = Number(process.env.REPORT_CONTACTS || 100_000);
const RUNS = Number(process.env.REPORT_RUNS || 3);
/** The live baseline takes minutes at 100,000 contacts on FerretDB: once is enough to compare. */
const LIVE_RUNS = Number(process.env.REPORT_LIVE_RUNS || 1);
const DAY_MS = 86_400_000;
const BATCH = 5_000;
const CATEGORIES = ['order_updates', 'offers', 'recommendations'];

interface ReportRequest {
  businessId: string;
  from: Date;
  to: Date;
  interval: 'day';
  groupBy: 'channel';
}

function* documents(now: number) {
  for (let i = 0; i < CONTACTS; i++) {
    const journeyId = `journey.acme.c_${i}:run`;
    const startedAt = new Date(now - 30 * DAY_MS + Math.floor((i / CONTACTS) * 29 * DAY_MS));
    const roll = i % 20;
    const status = roll < 8 ? 'confirmed' : roll < 10 ? 'declined' : roll < 18 ? 'expired' : roll < 19 ? 'opted_out' : 'active';
    const channel = ['sms', 'whatsapp', 'email', 'ivr'][i % 4];
    yield { kind: 'outbox', doc: { _id: `${journeyId}/0/optin_request`, businessId: 'acme', contactId: `c_${i}`, journeyId, channel, purpose: 'optin_request', to: '+14155550100', status: 'sent', createdAt: startedAt, sentAt: new Date(startedAt.getTime() + 800) } };
    yield { kind: 'journeys', doc: { _id: journeyId, workflowId: `journey.acme.c_${i}`, runId: 'run', businessId: 'acme', contactId: `c_${i}`, categories: CATEGORIES.slice(0, 2), plan: [{ channel, waitForMs: DAY_MS }], source: { kind: 'campaign' }, status, startedAt } };
    const at = new Date(startedAt.getTime() + 3_600_000);
    const answer = { journeyId, method: `${channel}_reply`, channel, requestedAt: startedAt.toISOString(), answeredAt: at.toISOString(), recordedAt: at.toISOString(), inbound: { Body: 'YES', From: '+14155550100' } };
    if (status === 'confirmed') {
      for (const category of CATEGORIES.slice(0, 2)) yield { kind: 'consent_events', doc: { _id: `${journeyId}:${category}:opted_in`, businessId: 'acme', contactId: `c_${i}`, phone: '+14155550100', category, type: 'opted_in', at, proof: { ...answer, confirmedCategories: CATEGORIES.slice(0, 2) } } };
    }
    if (status === 'declined') yield { kind: 'consent_events', doc: { _id: `${journeyId}:declined`, businessId: 'acme', contactId: `c_${i}`, phone: '+14155550100', category: 'offers,order_updates', type: 'declined', at, proof: answer } };
    if (status === 'opted_out') {
      const optOutId = `optout.sms.SM${i}`;
      const proof = { optOutId, method: 'keyword', channel: 'sms', text: 'STOP', matchedKeyword: 'stop', keywordLanguage: 'en', receivedAt: at.toISOString(), recordedAt: new Date(at.getTime() + 800).toISOString(), allCategories: true };
      for (const category of CATEGORIES) yield { kind: 'consent_events', doc: { _id: `${optOutId}:${category}:opted_out`, businessId: 'acme', contactId: `c_${i}`, phone: '+14155550100', category, type: 'opted_out', at, proof } };
      yield { kind: 'outbox', doc: { _id: `${optOutId}/confirmation`, businessId: 'acme', contactId: `c_${i}`, channel: 'sms', purpose: 'optout_confirmation', to: '+14155550100', status: 'sent', createdAt: at, sentAt: new Date(at.getTime() + 2_500) } };
    }
  }
}

async function seed(store: Store, now: number): Promise<number> {
  const batches = new Map<string, unknown[]>();
  let written = 0;
  const flush = async (kind: string) => {
    const docs = batches.get(kind) ?? [];
    if (docs.length) await store.connection.collection(kind).insertMany(docs as never[], { ordered: false });
    written += docs.length;
    batches.set(kind, []);
  };
  for (const { kind, doc } of documents(now)) {
    const batch = batches.get(kind) ?? batches.set(kind, []).get(kind)!;
    batch.push(doc);
    if (batch.length >= BATCH) await flush(kind);
  }
  for (const kind of [...batches.keys()]) await flush(kind);
  return written;
}

/**
 * The first design's read path over this run's figures: the same days copied one document per day
 * (`_id = <businessId>:<YYYY-MM-DD>`), to be read back by _id, one read per day, with the final mark,
 * and summed. Those documents carried the raw durations too, so this understates what that design cost.
 */
async function perDayDocuments(store: Store, req: ReportRequest, line: (s: string) => void): Promise<() => Promise<{ ms: number; report: ReturnType<typeof mergeReportDays> }>> {
  const starts: number[] = [];
  for (let t = req.from.getTime(); t < req.to.getTime(); t += DAY_MS) starts.push(t);
  const stored = await readReportDays(store, req.businessId, starts);
  const perDay = store.connection.collection<{ _id: string; figures: string }>('bench_report_days');
  const id = (t: number) => `${req.businessId}:${new Date(t).toISOString().slice(0, 10)}`;
  await perDay.insertMany([...stored].map(([t, d]) => ({ _id: id(t), figures: JSON.stringify(d.day) })));
  const sizes = [...stored.values()].map((d) => JSON.stringify(d.day).length);
  line(`figures per day: ${(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024).toFixed(1)} KiB on average over ${sizes.length} days`);
  return async () => {
    const began = Date.now();
    const [, docs] = await Promise.all([readFinalThrough(store, req.businessId), Promise.all(starts.map((t) => perDay.findOne({ _id: id(t) })))]);
    const report = mergeReportDays(req, docs.flatMap((d) => (d ? [JSON.parse(d.figures) as ReportDay] : [])));
    return { ms: Date.now() - began, report };
  };
}

async function main(): Promise<void> {
  let uri = process.env.MONGODB_URI;
  let stopFerret: (() => Promise<void>) | undefined;
  if (!uri) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'optinflow-bench-report-'));
    const ferret = await startFerretDb({ bin: process.env.FERRETDB_PATH || path.join(repoRoot, '.tools', 'bin', 'ferretdb'), port: await findFreePort(), dataDir: path.join(work, 'ferretdb'), logFile: path.join(work, 'ferretdb.log') });
    stopFerret = () => ferret.stop();
    uri = `${ferret.uri}bench_report`;
  }
  const store = await connectStore(uri);
  try {
    const now = Date.now();
    const seedStart = Date.now();
    const written = await seed(store, now);
    process.stdout.write(`seeded ${written} documents for ${CONTACTS} contacts in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);
    const businesses = loadBusinesses(path.join(repoRoot, 'config', 'businesses.demo.json'));
    const deps = { store, businesses };
    const req: ReportRequest = { businessId: 'acme', from: new Date(Math.floor((now - 30 * DAY_MS) / DAY_MS) * DAY_MS), to: new Date(now), interval: 'day', groupBy: 'channel' };
    const line = (s: string) => process.stdout.write(`${s}\n`);
    const live: number[] = [];
    let baseline: Awaited<ReturnType<typeof consentReport>> | undefined;
    for (let run = 1; run <= LIVE_RUNS; run++) {
      const rss = process.memoryUsage().rss;
      const r = await consentReport(deps, { ...req, fresh: true });
      baseline = r;
      live.push(r.tookMs);
      line(`live  run ${run}: ${r.tookMs} ms (${r.computedFrom}), journeys ${r.journeys.started}, opt-outs ${r.optOuts.total}, messages ${r.messages.sent}, rss +${Math.round((process.memoryUsage().rss - rss) / 1048576)} MiB`);
    }
    const sweepStart = Date.now();
    const swept = await refreshReportDays(deps, businesses.get('acme')!);
    line(`report_days sweep: ${((Date.now() - sweepStart) / 1000).toFixed(1)} s for ${swept.computed} open days (${swept.final} became final)`);
    // Key order of the tallies follows the order documents were read in: compare with sorted keys.
    const sorted = (v: unknown): unknown => (Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)])) : v);
    const figures = (r: typeof baseline) => JSON.stringify(sorted({ ...r, generatedAt: 0, tookMs: 0, asOf: 0, computedFrom: 0 }));
    const readPerDay = await perDayDocuments(store, req, line);
    const daily: number[] = [];
    const perDay: number[] = [];
    let same = true;
    // Alternately, so both designs see the same load.
    for (let run = 1; run <= RUNS; run++) {
      const old = await readPerDay();
      perDay.push(old.ms);
      line(`one document per day, run ${run}: ${old.ms} ms (a read by _id per day), journeys ${old.report.journeys.started}, opt-outs ${old.report.optOuts.total}`);
      const r = await consentReport(deps, req);
      daily.push(r.tookMs);
      same &&= figures(r) === figures(baseline);
      line(`daily run ${run}: ${r.tookMs} ms (${r.computedFrom}, a read by _id per month), journeys ${r.journeys.started}, opt-outs ${r.optOuts.total}, messages ${r.messages.sent}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    line(`${CONTACTS} contacts, 30 days: live ${median(live)} ms (baseline, median of ${LIVE_RUNS}) | one document per day ${median(perDay)} ms (median of ${RUNS}) | daily ${median(daily)} ms (median of ${RUNS}) | ${(median(live) / Math.max(1, median(daily))).toFixed(0)}x live, ${(median(perDay) / Math.max(1, median(daily))).toFixed(1)}x one document per day; daily figures equal the live ones: ${same}`);
  } finally {
    await store.connection.dropDatabase().catch(() => undefined);
    await store.connection.close();
    await stopFerret?.();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
