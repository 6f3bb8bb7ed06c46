import type { JourneyCounts } from './campaign';
import { classifyInbound, type KeywordExtensions } from './keywords';
import { countDuration, elapsedMs, tally, type DurationCounts } from './report-stats';

/*
 * One UTC day of one business's consent report, in a form that adds up: counts, tallies and the
 * durations the percentiles need, counted by value to three significant digits (report-stats.ts), so a
 * day stays small however busy it was. The live report builds these from the store and merges them; the
 * daily pre-aggregate (store/report-days.ts) keeps them, so both paths answer with the same numbers.
 */

export type ReportGroupBy = 'channel' | 'method' | 'category' | 'campaign';
export const REPORT_GROUP_BYS: ReportGroupBy[] = ['channel', 'method', 'category', 'campaign'];

export type Counts = JourneyCounts & { started: number };

export interface ReportDay {
  /** Start of the UTC day, ISO. */
  day: string;
  journeys: Counts;
  groups: Record<ReportGroupBy, Record<string, Counts>>;
  optOuts: { total: number; bySource: Record<string, number>; byChannel: Record<string, number>; byCategory: Record<string, number>; byKeyword: Record<string, number> };
  /** STOP received → ledger written, one per opt-out. */
  ledgerMs: DurationCounts;
  /** STOP received → confirmation accepted by the provider. */
  confirmationMs: DurationCounts;
  /** Confirmations accepted within five minutes of their STOP, counted from the exact durations. */
  confirmedWithinFiveMinutes: number;
  answersByMethod: Record<string, { confirmed: number; declined: number }>;
  answerMsByChannel: Record<string, DurationCounts>;
  /** Messages the provider accepted for the business (opt-out confirmations aside), by channel. */
  messagesSent: Record<string, number>;
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

export const FIVE_MINUTES_MS = 5 * 60_000;

const STATUS_KEYS: Record<string, keyof JourneyCounts> = { active: 'active', confirmed: 'confirmed', declined: 'declined', expired: 'expired', opted_out: 'opted_out', cancelled: 'cancelled' };

export const emptyCounts = (): Counts => ({ started: 0, active: 0, confirmed: 0, declined: 0, expired: 0, opted_out: 0, cancelled: 0 });

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

/** Adds every count of `b` into `a`. */
export function addCounts(a: Counts, b: Counts): void {
  for (const k of Object.keys(a) as (keyof Counts)[]) a[k] += b[k] ?? 0;
}

/** Builds one day from the store's documents; `close` joins the day's opt-outs to their confirmations. */
export function createDayAccumulator(dayStartMs: number, keywords?: KeywordExtensions) {
  const day: ReportDay = {
    day: new Date(dayStartMs).toISOString(),
    journeys: emptyCounts(),
    groups: { channel: {}, method: {}, category: {}, campaign: {} },
    optOuts: { total: 0, bySource: {}, byChannel: {}, byCategory: {}, byKeyword: {} },
    ledgerMs: {},
    confirmationMs: {},
    confirmedWithinFiveMinutes: 0,
    answersByMethod: {},
    answerMsByChannel: {},
    messagesSent: {},
  };
  const optOutReceivedAt = new Map<string, number>();

  function addJourney(j: ReportJourney): void {
    const status = STATUS_KEYS[j.status];
    const bump = (c: Counts) => {
      c.started++;
      if (status) c[status]++;
    };
    bump(day.journeys);
    for (const by of REPORT_GROUP_BYS) for (const key of groupKeys(j, by)) bump((day.groups[by][key] ??= emptyCounts()));
  }

  function keywordOf(proof: Record<string, any>): string | undefined {
    if (proof.method !== 'keyword') return undefined;
    if (proof.matchedKeyword) return `${proof.matchedKeyword}|${proof.keywordLanguage ?? ''}`;
    if (typeof proof.text !== 'string') return undefined;
    const c = classifyInbound(proof.text, keywords);
    return c.intent === 'opt_out' && c.matched ? `${c.matched}|${c.language ?? ''}` : undefined;
  }

  function addOptOut(e: ReportLedgerEvent, at: number): void {
    tally(day.optOuts.byCategory, e.category);
    const id = String(e.proof.optOutId ?? `${e.category}:${at}`);
    // One opt-out writes one event per category: the opt-out counts once.
    if (optOutReceivedAt.has(id)) return;
    optOutReceivedAt.set(id, Date.parse(e.proof.receivedAt ?? '') || at);
    day.optOuts.total++;
    tally(day.optOuts.bySource, String(e.proof.method ?? 'unknown'));
    tally(day.optOuts.byChannel, String(e.proof.channel ?? 'unknown'));
    const keyword = keywordOf(e.proof);
    if (keyword) tally(day.optOuts.byKeyword, keyword);
    const recorded = elapsedMs(e.proof.receivedAt, e.proof.recordedAt);
    if (recorded !== undefined) countDuration(day.ledgerMs, recorded);
  }

  function addAnswer(e: ReportLedgerEvent): void {
    const p = e.proof;
    if (!p.journeyId) return;
    // A confirmation writes one event per category: the answer counts once, on its first category.
    if (e.type === 'opted_in' && Array.isArray(p.confirmedCategories) && p.confirmedCategories[0] !== e.category) return;
    const method = String(p.method ?? 'unknown');
    day.answersByMethod[method] ??= { confirmed: 0, declined: 0 };
    day.answersByMethod[method][e.type === 'opted_in' ? 'confirmed' : 'declined']++;
    const took = elapsedMs(p.requestedAt, p.answeredAt);
    if (took !== undefined) countDuration((day.answerMsByChannel[String(p.channel ?? 'unknown')] ??= {}), took);
  }

  function addLedgerEvent(e: ReportLedgerEvent): void {
    const at = new Date(e.at).getTime();
    if (e.type === 'opted_out') addOptOut(e, at);
    else if (e.type === 'opted_in' || e.type === 'declined') addAnswer(e);
  }

  function addMessageSent(channel: string): void {
    tally(day.messagesSent, channel);
  }

  function close(confirmationsSentAt: ReadonlyMap<string, number>): ReportDay {
    day.confirmationMs = {};
    day.confirmedWithinFiveMinutes = 0;
    for (const [id, receivedAt] of optOutReceivedAt) {
      const sentAt = confirmationsSentAt.get(id);
      if (sentAt === undefined || sentAt < receivedAt) continue;
      countDuration(day.confirmationMs, sentAt - receivedAt);
      if (sentAt - receivedAt <= FIVE_MINUTES_MS) day.confirmedWithinFiveMinutes++;
    }
    return day;
  }

  return { addJourney, addLedgerEvent, addMessageSent, close };
}
