import type { Business } from '../domain/business';
import { createReportDays, mergeReportDays, type ConsentReport } from '../domain/consent-report';
import { createDayAccumulator, type ReportDay } from '../domain/report-day';
import { readFinalThrough, readReportDays, writeFinalThrough, writeReportDays, type ReportDayWrite } from '../store/report-days';
import { eachJourneyStarted, eachLedgerEvent, eachSentMessage } from '../store/reports';
import type { ServiceDeps, ServiceLog } from './deps';
import type { ConsentReportRequest } from './reports';

const DAY_MS = 86_400_000;
/** Days kept: the report's longest window. */
export const REPORT_DAYS_KEPT = 366;
/** An opt-out's confirmation may be sent a little after its day: a day is final only after this. */
const CONFIRMATION_SLACK_MS = DAY_MS;

const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

/**
 * Recomputes the business's days that are not final yet (today, recent days, days with a journey still
 * running) from the store, in one streamed pass from the oldest of them, and replaces their entries (one write
 * per month). A final day is never read again. Idempotent: a day's entry is a function of the store.
 */
export async function refreshReportDays(deps: Pick<ServiceDeps, 'store'>, business: Business, now = Date.now()): Promise<{ computed: number; final: number }> {
  const today = dayStart(now);
  const finalThrough = await readFinalThrough(deps.store, business.id);
  const first = Math.max(today - (REPORT_DAYS_KEPT - 1) * DAY_MS, finalThrough === undefined ? -Infinity : finalThrough + DAY_MS);
  const candidates: number[] = [];
  for (let t = first; t <= today; t += DAY_MS) candidates.push(t);
  const stored = await readReportDays(deps.store, business.id, candidates);
  const open = candidates.filter((t) => !stored.get(t)?.settled);
  if (open.length === 0) return { computed: 0, final: 0 };
  const range = { from: new Date(open[0]), to: new Date(now) };
  const acc = createReportDays({ ...range, keywords: business.keywords });
  await Promise.all([
    eachJourneyStarted(deps.store, business.id, range, acc.addJourney),
    eachLedgerEvent(deps.store, business.id, range, acc.addLedgerEvent),
    eachSentMessage(deps.store, business.id, range, { optOutConfirmation: acc.addOptOutConfirmation, message: acc.addMessageSent }),
  ]);
  const computed = new Map(acc.days().map((d) => [Date.parse(d.day), d]));
  const writes: ReportDayWrite[] = [];
  let final = 0;
  // Days before `first` are final (or older than any report reads); the mark moves over the settled days that follow.
  let finalRun = first - DAY_MS;
  for (const t of candidates) {
    const settledBefore = stored.get(t)?.settled === true;
    const day = computed.get(t);
    const settled = settledBefore || (t + DAY_MS + CONFIRMATION_SLACK_MS <= now && (day?.journeys.active ?? 0) === 0);
    if (!settledBefore) {
      if (settled) final++;
      // A quiet day that is final needs no entry: the mark below says it is empty.
      if (day || !settled) writes.push({ dayStartMs: t, day: day ?? createDayAccumulator(t).close(new Map()), settled });
    }
    if (settled && t === finalRun + DAY_MS) finalRun = t;
  }
  await writeReportDays(deps.store, business.id, writes, new Date(now));
  if (finalRun >= first) await writeFinalThrough(deps.store, business.id, finalRun);
  return { computed: open.length, final };
}

/** The sweep: every business's open days. */
export async function refreshAllReportDays(deps: Pick<ServiceDeps, 'store' | 'businesses'>, log: ServiceLog): Promise<Record<string, number>> {
  let computed = 0;
  let final = 0;
  for (const business of deps.businesses.all()) {
    const r = await refreshReportDays(deps, business);
    computed += r.computed;
    final += r.final;
  }
  if (final) log.info({ final }, 'report days became final');
  return { computed, final };
}

/**
 * The report from the daily figures, when they can answer: the window is whole UTC days (or ends
 * today) and every day of it is stored. Today counts up to when the sweep last computed it (`asOf`).
 */
export async function reportFromDays(deps: Pick<ServiceDeps, 'store'>, business: Business, req: ConsentReportRequest, now = Date.now()): Promise<(ConsentReport & { asOf: string }) | undefined> {
  const from = req.from.getTime();
  const to = req.to.getTime();
  const today = dayStart(now);
  if (from !== dayStart(from) || (to !== dayStart(to) && dayStart(to) !== today)) return undefined;
  const starts: number[] = [];
  for (let t = from; t < to; t += DAY_MS) starts.push(t);
  const [finalThrough, stored] = await Promise.all([readFinalThrough(deps.store, business.id), readReportDays(deps.store, business.id, starts)]);
  const quiet = (t: number) => finalThrough !== undefined && t <= finalThrough;
  if (starts.some((t) => !stored.has(t) && !quiet(t))) return undefined;
  const days: ReportDay[] = starts.flatMap((t) => (stored.has(t) ? [stored.get(t)!.day] : []));
  const asOf = Math.min(now, ...[...stored.values()].filter((d) => !d.settled).map((d) => d.computedAt.getTime()));
  return { ...mergeReportDays({ ...req, businessId: business.id }, days), asOf: new Date(asOf).toISOString() };
}
