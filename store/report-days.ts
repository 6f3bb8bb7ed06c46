import type { ReportDay } from '../domain/report-day';
import type { Store } from './models';

/**
 * The daily pre-aggregate of the consent report: one document per business and UTC day,
 * `_id = <businessId>:<YYYY-MM-DD>`, read only by `_id` (the one lookup FerretDB 1.24 serves from an
 * index) and replaced whole by the sweep, so a sweep that runs twice writes the same document: each
 * event is counted once however often a day is recomputed. The day's figures are one JSON string, so
 * category, channel and keyword names never become field names.
 */

const COLLECTION = 'report_days';

export interface StoredReportDay {
  day: ReportDay;
  computedAt: Date;
  /** No journey of the day can still change its outcome and its opt-outs' confirmations are in: never recomputed. */
  settled: boolean;
}

interface ReportDayDoc {
  _id: string;
  businessId: string;
  day: Date;
  figures: string;
  computedAt: Date;
  settled: boolean;
}

export const reportDayId = (businessId: string, dayStartMs: number) => `${businessId}:${new Date(dayStartMs).toISOString().slice(0, 10)}`;

const days = (store: Store) => store.connection.collection<ReportDayDoc>(COLLECTION);

/** The stored days of a business, by day start; a day never computed is missing from the map. */
export async function readReportDays(store: Store, businessId: string, dayStartsMs: number[]): Promise<Map<number, StoredReportDay>> {
  const found = await Promise.all(dayStartsMs.map((t) => days(store).findOne({ _id: reportDayId(businessId, t) })));
  const out = new Map<number, StoredReportDay>();
  found.forEach((doc, i) => {
    if (doc) out.set(dayStartsMs[i], { day: JSON.parse(doc.figures) as ReportDay, computedAt: doc.computedAt, settled: doc.settled });
  });
  return out;
}

export async function writeReportDay(store: Store, businessId: string, dayStartMs: number, day: ReportDay, computedAt: Date, settled: boolean): Promise<void> {
  const _id = reportDayId(businessId, dayStartMs);
  await days(store).replaceOne({ _id }, { businessId, day: new Date(dayStartMs), figures: JSON.stringify(day), computedAt, settled }, { upsert: true });
}

interface FinalMarkDoc {
  _id: string;
  finalThrough: Date;
}
const marks = (store: Store) => store.connection.collection<FinalMarkDoc>(COLLECTION);
const markId = (businessId: string) => `${businessId}:final`;

/**
 * Up to which day (its start) every day of the business is final. A final day with nothing in it has
 * no document, so a year of quiet days costs no writes: a missing day up to here is an empty one.
 */
export async function readFinalThrough(store: Store, businessId: string): Promise<number | undefined> {
  const doc = await marks(store).findOne({ _id: markId(businessId) });
  return doc ? doc.finalThrough.getTime() : undefined;
}

export async function writeFinalThrough(store: Store, businessId: string, dayStartMs: number): Promise<void> {
  await marks(store).replaceOne({ _id: markId(businessId) }, { finalThrough: new Date(dayStartMs) }, { upsert: true });
}
