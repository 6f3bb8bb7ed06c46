import type { ReportDay } from '../domain/report-day';
import type { Store } from './models';

/**
 * The daily pre-aggregate of the consent report, kept as one document per business and UTC month,
 * `_id = <businessId>:<YYYY-MM>`, with one entry per day under `days.<YYYY-MM-DD>`. Read only by `_id`
 * (the one lookup FerretDB 1.24 serves from an index): a 30-day window is two or three reads, not
 * thirty-one, and each round trip to the store costs more than the figures it carries. The sweep sets
 * whole days (`$set` of the day's entry), so a sweep that runs twice writes the same entries: each event
 * is counted once however often a day is recomputed. A day's figures are one JSON string, so category,
 * channel and keyword names never become field names.
 */

const COLLECTION = 'report_months';

export interface StoredReportDay {
  day: ReportDay;
  computedAt: Date;
  /** No journey of the day can still change its outcome and its opt-outs' confirmations are in: never recomputed. */
  settled: boolean;
}

interface DayEntry {
  figures: string;
  computedAt: Date;
  settled: boolean;
}

interface ReportMonthDoc {
  _id: string;
  businessId: string;
  month: Date;
  days: Record<string, DayEntry>;
}

const dayKey = (dayStartMs: number) => new Date(dayStartMs).toISOString().slice(0, 10);
const monthStart = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
export const reportMonthId = (businessId: string, ms: number) => `${businessId}:${new Date(ms).toISOString().slice(0, 7)}`;

const months = (store: Store) => store.connection.collection<ReportMonthDoc>(COLLECTION);

function byMonth<T>(dayStartsMs: T[], startOf: (x: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const x of dayStartsMs) {
    const m = monthStart(startOf(x));
    (out.get(m) ?? out.set(m, []).get(m)!).push(x);
  }
  return out;
}

/** The stored days of a business, by day start; a day never computed is missing from the map. */
export async function readReportDays(store: Store, businessId: string, dayStartsMs: number[]): Promise<Map<number, StoredReportDay>> {
  const wanted = [...byMonth(dayStartsMs, (t) => t)];
  const docs = await Promise.all(wanted.map(([m]) => months(store).findOne({ _id: reportMonthId(businessId, m) })));
  const out = new Map<number, StoredReportDay>();
  wanted.forEach(([, starts], i) => {
    for (const t of starts) {
      const entry = docs[i]?.days?.[dayKey(t)];
      if (entry) out.set(t, { day: JSON.parse(entry.figures) as ReportDay, computedAt: entry.computedAt, settled: entry.settled });
    }
  });
  return out;
}

export interface ReportDayWrite {
  dayStartMs: number;
  day: ReportDay;
  settled: boolean;
}

/** Sets each day's entry, one write per month; the month's other days are left as they are. */
export async function writeReportDays(store: Store, businessId: string, days: ReportDayWrite[], computedAt: Date): Promise<void> {
  for (const [m, writes] of byMonth(days, (w) => w.dayStartMs)) {
    const entries = writes.map((w): [string, DayEntry] => [`days.${dayKey(w.dayStartMs)}`, { figures: JSON.stringify(w.day), computedAt, settled: w.settled }]);
    await months(store).updateOne({ _id: reportMonthId(businessId, m) }, { $set: { businessId, month: new Date(m), ...Object.fromEntries(entries) } }, { upsert: true });
  }
}

interface FinalMarkDoc {
  _id: string;
  finalThrough: Date;
}
const marks = (store: Store) => store.connection.collection<FinalMarkDoc>(COLLECTION);
const markId = (businessId: string) => `${businessId}:final`;

/**
 * Up to which day (its start) every day of the business is final. A final day with nothing in it has
 * no entry, so a year of quiet days costs no writes: a missing day up to here is an empty one.
 */
export async function readFinalThrough(store: Store, businessId: string): Promise<number | undefined> {
  const doc = await marks(store).findOne({ _id: markId(businessId) });
  return doc ? doc.finalThrough.getTime() : undefined;
}

export async function writeFinalThrough(store: Store, businessId: string, dayStartMs: number): Promise<void> {
  await marks(store).replaceOne({ _id: markId(businessId) }, { finalThrough: new Date(dayStartMs) }, { upsert: true });
}
