import { optInRate, type JourneyCounts } from './campaign';
import { classifyInbound, type KeywordExtensions } from './keywords';
import { bucketStart, bucketStarts, durationStats, elapsedMs, shareWithin, tally, type DurationStats, type ReportInterval } from './report-stats';

/**
 * The consent report of one business over a time window, built one document at a time so a caller
 * can stream the store into it: journeys by the day they started (their outcome as of now), the
 * ledger's opt-outs and answers by the day they happened. Pure: the store reads live in store/reports.ts.
 */

export type ReportGroupBy = 'channel' | 'method' | 'category' | 'campaign';

export interface ReportParams {
  businessId: string;
  from: Date;
  to: Date;
  interval: ReportInterval;
  groupBy: ReportGroupBy;
  /** The business's own keywords, to name the word an older opt-out matched when its proof does not say. */
  keywords?: KeywordExtensions;
}

/** The fields of a journey document the report reads. */
export interface ReportJourney {
  startedAt?: Date | string | null;
  status: string;
  campaignId?: string | null;
  categories?: string[] | null;
  plan?: unknown;
  source?: unknown;
}

/** The fields of a ledger event the report reads. */
export interface ReportLedgerEvent {
  category: string;
  type: string;
  at: Date | string;
  proof: Record<string, any>;
}

const FIVE_MINUTES_MS = 5 * 60_000;
const STATUS_KEYS: Record<string, keyof JourneyCounts> = { active: 'active', confirmed: 'confirmed', declined: 'declined', expired: 'expired', opted_out: 'opted_out', cancelled: 'cancelled' };

const emptyCounts = (): JourneyCounts & { started: number } => ({ started: 0, active: 0, confirmed: 0, declined: 0, expired: 0, opted_out: 0, cancelled: 0 });

function journeyView(c: JourneyCounts & { started: number }) {
  return { started: c.started, active: c.active, confirmed: c.confirmed, declined: c.declined, expired: c.expired, optedOut: c.opted_out, cancelled: c.cancelled, optInRate: optInRate(c) };
}

function groupKeys(j: ReportJourney, groupBy: ReportGroupBy): string[] {
  switch (groupBy) {
    case 'channel': {
      const first = Array.isArray(j.plan) ? (j.plan[0] as { channel?: string } | undefined)?.channel : undefined;
      return [first ?? 'unknown'];
    }
    case 'method':
      return [(j.source as { kind?: string } | undefined)?.kind ?? 'api'];
    case 'category':
      return j.categories?.length ? j.categories : ['unknown'];
    case 'campaign':
      return [j.campaignId ?? 'none'];
  }
}

export function createConsentReport(params: ReportParams) {
  const from = params.from.getTime();
  const to = params.to.getTime();
  const totals = emptyCounts();
  const groups = new Map<string, ReturnType<typeof emptyCounts>>();
  const series = new Map(bucketStarts(from, to, params.interval).map((start) => [start, { journeys: emptyCounts(), optOuts: 0, optOutsBySource: {} as Record<string, number> }]));
  const bucketOf = (at: number) => series.get(bucketStart(at, params.interval));

  const optOutReceivedAt = new Map<string, number>();
  const optOuts = { total: 0, bySource: {} as Record<string, number>, byChannel: {} as Record<string, number>, byCategory: {} as Record<string, number>, byKeyword: {} as Record<string, number> };
  const ledgerMs: number[] = [];
  const confirmationsSentAt = new Map<string, number>();
  const answersByMethod: Record<string, { confirmed: number; declined: number }> = {};
  const answerMsByChannel = new Map<string, number[]>();

  function addJourney(j: ReportJourney): void {
    const startedAt = j.startedAt ? new Date(j.startedAt).getTime() : NaN;
    if (!(startedAt >= from && startedAt < to)) return;
    const status = STATUS_KEYS[j.status];
    for (const counts of [totals, bucketOf(startedAt)?.journeys, ...groupKeys(j, params.groupBy).map((k) => groups.get(k) ?? groups.set(k, emptyCounts()).get(k)!)]) {
      if (!counts) continue;
      counts.started++;
      if (status) counts[status]++;
    }
  }

  /** An opt-out confirmation at the provider, joined to its opt-out by id when the report is finished. */
  function addOptOutConfirmation(optOutId: string, sentAt: Date | string): void {
    confirmationsSentAt.set(optOutId, new Date(sentAt).getTime());
  }

  function keywordOf(proof: Record<string, any>): string | undefined {
    if (proof.method !== 'keyword') return undefined;
    if (proof.matchedKeyword) return `${proof.matchedKeyword}|${proof.keywordLanguage ?? ''}`;
    if (typeof proof.text !== 'string') return undefined;
    const c = classifyInbound(proof.text, params.keywords);
    return c.intent === 'opt_out' && c.matched ? `${c.matched}|${c.language ?? ''}` : undefined;
  }

  function addOptOut(e: ReportLedgerEvent, at: number): void {
    tally(optOuts.byCategory, e.category);
    const id = String(e.proof.optOutId ?? `${e.category}:${at}`);
    // One opt-out writes one event per category: the opt-out counts once.
    if (optOutReceivedAt.has(id)) return;
    const receivedAt = Date.parse(e.proof.receivedAt ?? '') || at;
    optOutReceivedAt.set(id, receivedAt);
    const source = String(e.proof.method ?? 'unknown');
    optOuts.total++;
    tally(optOuts.bySource, source);
    tally(optOuts.byChannel, String(e.proof.channel ?? 'unknown'));
    const keyword = keywordOf(e.proof);
    if (keyword) tally(optOuts.byKeyword, keyword);
    const bucket = bucketOf(at);
    if (bucket) {
      bucket.optOuts++;
      tally(bucket.optOutsBySource, source);
    }
    const recorded = elapsedMs(e.proof.receivedAt, e.proof.recordedAt);
    if (recorded !== undefined) ledgerMs.push(recorded);
  }

  function addAnswer(e: ReportLedgerEvent): void {
    const p = e.proof;
    if (!p.journeyId) return;
    // A confirmation writes one event per category: the answer counts once, on its first category.
    if (e.type === 'opted_in' && Array.isArray(p.confirmedCategories) && p.confirmedCategories[0] !== e.category) return;
    const method = String(p.method ?? 'unknown');
    answersByMethod[method] ??= { confirmed: 0, declined: 0 };
    answersByMethod[method][e.type === 'opted_in' ? 'confirmed' : 'declined']++;
    const took = elapsedMs(p.requestedAt, p.answeredAt);
    const channel = String(p.channel ?? 'unknown');
    if (took !== undefined) (answerMsByChannel.get(channel) ?? answerMsByChannel.set(channel, []).get(channel)!).push(took);
  }

  function addLedgerEvent(e: ReportLedgerEvent): void {
    const at = new Date(e.at).getTime();
    if (!(at >= from && at < to)) return;
    if (e.type === 'opted_out') addOptOut(e, at);
    else if (e.type === 'opted_in' || e.type === 'declined') addAnswer(e);
  }

  function finish() {
    const confirmationMs: number[] = [];
    for (const [id, receivedAt] of optOutReceivedAt) {
      const sentAt = confirmationsSentAt.get(id);
      if (sentAt !== undefined && sentAt >= receivedAt) confirmationMs.push(sentAt - receivedAt);
    }
    const byKeyword = Object.entries(optOuts.byKeyword)
      .map(([key, count]) => ({ keyword: key.split('|')[0], language: key.split('|')[1] || null, count }))
      .sort((a, b) => b.count - a.count || a.keyword.localeCompare(b.keyword));
    const timeToAnswer: Record<string, DurationStats> = {};
    for (const [channel, ms] of [...answerMsByChannel].sort(([a], [b]) => a.localeCompare(b))) timeToAnswer[channel] = durationStats(ms);
    return {
      businessId: params.businessId,
      from: params.from.toISOString(),
      to: params.to.toISOString(),
      interval: params.interval,
      groupBy: params.groupBy,
      journeys: journeyView(totals),
      groups: [...groups].map(([key, c]) => ({ key, ...journeyView(c) })).sort((a, b) => b.started - a.started || a.key.localeCompare(b.key)),
      optOuts: { total: optOuts.total, bySource: optOuts.bySource, byChannel: optOuts.byChannel, byCategory: optOuts.byCategory, byKeyword },
      timeToHonour: {
        ledger: durationStats(ledgerMs),
        confirmation: { ...durationStats(confirmationMs), withinFiveMinutes: shareWithin(confirmationMs, FIVE_MINUTES_MS) },
      },
      answers: { byMethod: answersByMethod, timeToAnswer },
      series: [...series].map(([start, b]) => ({ start: new Date(start).toISOString(), journeys: journeyView(b.journeys), optOuts: b.optOuts, optOutsBySource: b.optOutsBySource })),
    };
  }

  return { addJourney, addOptOutConfirmation, addLedgerEvent, finish };
}

export type ConsentReport = ReturnType<ReturnType<typeof createConsentReport>['finish']>;
