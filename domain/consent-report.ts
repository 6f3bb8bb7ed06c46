import { optInRate } from './campaign';
import type { KeywordExtensions } from './keywords';
import { addCounts, createDayAccumulator, emptyCounts, type Counts, type ReportDay, type ReportGroupBy, type ReportJourney, type ReportLedgerEvent } from './report-day';
import { addDurationCounts, bucketStart, bucketStarts, countedStats, share, tally, type DurationCounts, type DurationStats, type ReportInterval } from './report-stats';

export type { ReportGroupBy, ReportJourney, ReportLedgerEvent } from './report-day';

/**
 * The consent report of one business over a time window, built one document at a time so a caller
 * can stream the store into it: journeys by the day they started (their outcome as of now), the
 * ledger's opt-outs and answers by the day they happened. Each UTC day is kept apart (report-day.ts)
 * and the answer is their sum, so whole days kept by the daily pre-aggregate can stand in for reads.
 * Pure: the store reads live in store/reports.ts.
 */

export interface ReportParams {
  businessId: string;
  from: Date;
  to: Date;
  interval: ReportInterval;
  groupBy: ReportGroupBy;
  /** The business's own keywords, to name the word an older opt-out matched when its proof does not say. */
  keywords?: KeywordExtensions;
}

const DAY_MS = 86_400_000;

function journeyView(c: Counts) {
  return { started: c.started, active: c.active, confirmed: c.confirmed, declined: c.declined, expired: c.expired, optedOut: c.opted_out, cancelled: c.cancelled, optInRate: optInRate(c) };
}

const addTallies = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, n] of Object.entries(from)) tally(into, k, n);
};

/** The report over `days` (each already limited to the window), in the answer's shape. */
export function mergeReportDays(params: ReportParams, days: ReportDay[]) {
  const totals = emptyCounts();
  const groups = new Map<string, Counts>();
  const series = new Map(bucketStarts(params.from.getTime(), params.to.getTime(), params.interval).map((start) => [start, { journeys: emptyCounts(), optOuts: 0, optOutsBySource: {} as Record<string, number> }]));
  const optOuts = { total: 0, bySource: {} as Record<string, number>, byChannel: {} as Record<string, number>, byCategory: {} as Record<string, number>, byKeyword: {} as Record<string, number> };
  const ledgerMs: DurationCounts = {};
  const confirmationMs: DurationCounts = {};
  let confirmedWithinFiveMinutes = 0;
  const answersByMethod: Record<string, { confirmed: number; declined: number }> = {};
  const answerMsByChannel = new Map<string, DurationCounts>();
  const messagesByChannel: Record<string, number> = {};

  for (const d of days) {
    addCounts(totals, d.journeys);
    for (const [key, c] of Object.entries(d.groups[params.groupBy])) addCounts(groups.get(key) ?? groups.set(key, emptyCounts()).get(key)!, c);
    const bucket = series.get(bucketStart(Date.parse(d.day), params.interval));
    if (bucket) {
      addCounts(bucket.journeys, d.journeys);
      bucket.optOuts += d.optOuts.total;
      addTallies(bucket.optOutsBySource, d.optOuts.bySource);
    }
    optOuts.total += d.optOuts.total;
    addTallies(optOuts.bySource, d.optOuts.bySource);
    addTallies(optOuts.byChannel, d.optOuts.byChannel);
    addTallies(optOuts.byCategory, d.optOuts.byCategory);
    addTallies(optOuts.byKeyword, d.optOuts.byKeyword);
    addDurationCounts(ledgerMs, d.ledgerMs);
    addDurationCounts(confirmationMs, d.confirmationMs);
    confirmedWithinFiveMinutes += d.confirmedWithinFiveMinutes;
    for (const [method, a] of Object.entries(d.answersByMethod)) {
      answersByMethod[method] ??= { confirmed: 0, declined: 0 };
      answersByMethod[method].confirmed += a.confirmed;
      answersByMethod[method].declined += a.declined;
    }
    for (const [channel, ms] of Object.entries(d.answerMsByChannel)) addDurationCounts(answerMsByChannel.get(channel) ?? answerMsByChannel.set(channel, {}).get(channel)!, ms);
    addTallies(messagesByChannel, d.messagesSent ?? {});
  }

  const byKeyword = Object.entries(optOuts.byKeyword)
    .map(([key, count]) => ({ keyword: key.split('|')[0], language: key.split('|')[1] || null, count }))
    .sort((a, b) => b.count - a.count || a.keyword.localeCompare(b.keyword));
  const timeToAnswer: Record<string, DurationStats> = {};
  for (const [channel, ms] of [...answerMsByChannel].sort(([a], [b]) => a.localeCompare(b))) timeToAnswer[channel] = countedStats(ms);
  const sent = Object.values(messagesByChannel).reduce((a, b) => a + b, 0);
  const confirmation = countedStats(confirmationMs);
  return {
    businessId: params.businessId,
    from: params.from.toISOString(),
    to: params.to.toISOString(),
    interval: params.interval,
    groupBy: params.groupBy,
    journeys: journeyView(totals),
    groups: [...groups].map(([key, c]) => ({ key, ...journeyView(c) })).sort((a, b) => b.started - a.started || a.key.localeCompare(b.key)),
    optOuts: { total: optOuts.total, bySource: optOuts.bySource, byChannel: optOuts.byChannel, byCategory: optOuts.byCategory, byKeyword },
    /** Opt-outs per message the provider accepted for the business in the window (opt-out confirmations aside). */
    messages: { sent, byChannel: messagesByChannel, optOutRate: share(optOuts.total, sent) },
    timeToHonour: {
      ledger: countedStats(ledgerMs),
      confirmation: { ...confirmation, withinFiveMinutes: share(confirmedWithinFiveMinutes, confirmation.count) },
    },
    answers: { byMethod: answersByMethod, timeToAnswer },
    series: [...series].map(([start, b]) => ({ start: new Date(start).toISOString(), journeys: journeyView(b.journeys), optOuts: b.optOuts, optOutsBySource: b.optOutsBySource })),
  };
}

/** Streams the store's documents into UTC days (only what falls in [from, to)); `days()` closes them. */
export function createReportDays(params: Pick<ReportParams, 'from' | 'to' | 'keywords'>) {
  const from = params.from.getTime();
  const to = params.to.getTime();
  const days = new Map<number, ReturnType<typeof createDayAccumulator>>();
  const confirmationsSentAt = new Map<string, number>();
  const dayOf = (at: number) => {
    const start = Math.floor(at / DAY_MS) * DAY_MS;
    return days.get(start) ?? days.set(start, createDayAccumulator(start, params.keywords)).get(start)!;
  };
  const inWindow = (at: number) => at >= from && at < to;

  return {
    addJourney(j: ReportJourney): void {
      const at = j.startedAt ? new Date(j.startedAt).getTime() : NaN;
      if (inWindow(at)) dayOf(at).addJourney(j);
    },
    addLedgerEvent(e: ReportLedgerEvent): void {
      const at = new Date(e.at).getTime();
      if (inWindow(at)) dayOf(at).addLedgerEvent(e);
    },
    /** An opt-out confirmation at the provider, joined to its opt-out by id when the days are closed. */
    addOptOutConfirmation(optOutId: string, sentAt: Date | string): void {
      confirmationsSentAt.set(optOutId, new Date(sentAt).getTime());
    },
    addMessageSent(channel: string, sentAt: Date | string): void {
      const at = new Date(sentAt).getTime();
      if (inWindow(at)) dayOf(at).addMessageSent(channel);
    },
    /** Every day that saw something, in order; `emptyDays` adds the quiet ones between from and to. */
    days(opts: { emptyDays?: boolean } = {}): ReportDay[] {
      if (opts.emptyDays) for (let t = Math.floor(from / DAY_MS) * DAY_MS; t < to; t += DAY_MS) dayOf(t);
      return [...days].sort(([a], [b]) => a - b).map(([, d]) => d.close(confirmationsSentAt));
    },
  };
}

/** The live report: stream documents in, `finish()` answers. */
export function createConsentReport(params: ReportParams) {
  const days = createReportDays(params);
  return {
    addJourney: days.addJourney,
    addLedgerEvent: days.addLedgerEvent,
    addOptOutConfirmation: days.addOptOutConfirmation,
    addMessageSent: days.addMessageSent,
    finish: () => mergeReportDays(params, days.days()),
  };
}

export type ConsentReport = ReturnType<typeof mergeReportDays>;
