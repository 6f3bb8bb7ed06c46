import type { Business, Channel } from './business';

/**
 * How fast a campaign starts journeys: per-second rate on the first step's channel and WhatsApp's
 * daily new-contact tier. The campaign workflow runs it: no I/O, no clock, `now` is an argument.
 */

export interface PacingLimits {
  /** Journeys started (first messages sent) per second on the first step's channel. */
  perSecond: number;
  /** WhatsApp's limit of new contacts per rolling 24 hours, when the plan uses WhatsApp. */
  dailyNewContacts?: number;
}

export function pacingLimitsFor(business: Business, planChannels: readonly Channel[]): PacingLimits {
  const s = business.sending;
  const first = planChannels[0] ?? 'sms';
  const perSecond = { sms: s.smsPerSecond, whatsapp: s.whatsappPerSecond, email: s.emailPerSecond, ivr: s.callsPerSecond }[first];
  return planChannels.includes('whatsapp') ? { perSecond, dailyNewContacts: s.whatsappTier } : { perSecond };
}

/** Where the pacer stands: the current sending window and the current 24-hour window. */
export interface PacerState {
  windowStartedAt: number;
  startedInWindow: number;
  dayStartedAt: number;
  startedInDay: number;
}

export function newPacer(): PacerState {
  return { windowStartedAt: 0, startedInWindow: 0, dayStartedAt: 0, startedInDay: 0 };
}

const DAY_MS = 86_400_000;

/** A rate below one per second sends one per 1/rate seconds; above, `rate` per second. */
export function pacingWindow(limits: PacingLimits): { windowMs: number; perWindow: number } {
  if (limits.perSecond >= 1) return { windowMs: 1000, perWindow: Math.floor(limits.perSecond) };
  return { windowMs: Math.ceil(1000 / limits.perSecond), perWindow: 1 };
}

/** What the WhatsApp tier leaves of the current 24-hour window at `now` (unbounded without a tier). */
function leftInDay(state: PacerState, limits: PacingLimits, now: number): number {
  const inDay = now < state.dayStartedAt + DAY_MS ? state.startedInDay : 0;
  return limits.dailyNewContacts === undefined ? Number.POSITIVE_INFINITY : limits.dailyNewContacts - inDay;
}

/** How many journeys may start at `now`, or how long to wait before the next one may. */
export function allowance(state: PacerState, limits: PacingLimits, now: number): { allowed: number; waitMs: number } {
  const { windowMs, perWindow } = pacingWindow(limits);
  const inWindow = now < state.windowStartedAt + windowMs ? state.startedInWindow : 0;
  const byRate = perWindow - inWindow;
  const byDay = leftInDay(state, limits, now);
  const allowed = Math.max(0, Math.min(byRate, byDay));
  if (allowed > 0) return { allowed, waitMs: 0 };
  const rateWait = byRate > 0 ? 0 : state.windowStartedAt + windowMs - now;
  const dayWait = byDay > 0 ? 0 : state.dayStartedAt + DAY_MS - now;
  return { allowed: 0, waitMs: Math.max(1, rateWait, dayWait) };
}

/** Counts `n` journeys started at `now`; returns the new state (the old one is left alone). */
export function consume(state: PacerState, limits: PacingLimits, now: number, n: number): PacerState {
  const { windowMs } = pacingWindow(limits);
  const next = { ...state };
  if (now >= next.windowStartedAt + windowMs) {
    next.windowStartedAt = now;
    next.startedInWindow = 0;
  }
  if (now >= next.dayStartedAt + DAY_MS) {
    next.dayStartedAt = now;
    next.startedInDay = 0;
  }
  next.startedInWindow += n;
  next.startedInDay += n;
  return next;
}

/**
 * How far ahead one batch may plan its windows: its activity then runs about this long plus its
 * starts, and a pause or cancel takes effect once it returns.
 */
export const BATCH_SPAN_MS = 2_000;

/**
 * The groups of a batch that spans sending windows: the first starts at once, each next one a window
 * after the one before, each as large as its window allows and the day's tier leaves. A batch per
 * window spent the window's time on its own round trip (the activity, then the workflow's turn), so
 * the starts fell behind the rate; a batch over several windows pays that once. A window partly used
 * already, or one longer than the span, gives a batch of that window alone.
 */
export function batchGroups(state: PacerState, limits: PacingLimits, now: number): { groups: number[]; everyMs: number } {
  const { windowMs, perWindow } = pacingWindow(limits);
  const slot = allowance(state, limits, now);
  if (slot.allowed < perWindow || windowMs > BATCH_SPAN_MS) return { groups: slot.allowed > 0 ? [slot.allowed] : [], everyMs: windowMs };
  let left = leftInDay(state, limits, now);
  const groups: number[] = [];
  const windows = Math.floor(BATCH_SPAN_MS / windowMs) + 1;
  while (groups.length < windows && left > 0) {
    const n = Math.min(perWindow, left);
    groups.push(n);
    left -= n;
  }
  return { groups, everyMs: windowMs };
}

/**
 * A wait for the next sending window this short is the batch's own: its activity is scheduled at once
 * and holds its first group until the window opens. Longer waits are a timer that ends this long
 * before the window. Campaign runs from before patch campaign-batches-chain wait so, and every run
 * waits so once an update came in, because the timer lets the workflow task go and the update's
 * answer leaves with it. The window opens on the activity's clock, the one launches are counted by.
 */
export const BATCH_LEAD_MS = 500;

/**
 * With chained batches (patch campaign-batches-chain) a wait for the next window this short is the
 * batch's own, so at a rate of one window a second or faster the workflow never leaves its task
 * between batches: the next batch's local activity is scheduled as the last one returns, in the same
 * task, and holds its first group until the window opens. A timer between batches cost 0.2 to 0.5 s
 * each under load, its workflow task queued behind the journeys' tasks in the worker. The worker
 * renews a task held open so at 80 % of the campaign's task timeout (services/workflow-starts.ts
 * CAMPAIGN_TASK_TIMEOUT); a pause, resume or cancel arrives with a renewal.
 */
export const BATCH_CHAIN_LEAD_MS = 1_000;

/** Counts a batch's starts at the times their groups began, in order; returns the new state. */
export function consumeLaunches(state: PacerState, limits: PacingLimits, launches: ReadonlyArray<{ at: number; n: number }>): PacerState {
  return [...launches].sort((a, b) => a.at - b.at).reduce((s, l) => consume(s, limits, l.at, l.n), state);
}

/** Rows read per page: about ten seconds of sending, so a page never outlives its quiet-hours check by much. */
export function rowPageSize(limits: PacingLimits): number {
  return Math.min(500, Math.max(20, Math.ceil(limits.perSecond * 10)));
}

/** The journeys a paced batch started, by when their group began (rows it did not start count nowhere). */
export function launchesOf(results: ReadonlyArray<{ journeyId?: string; launchedAt?: number }>): Array<{ at: number; n: number }> {
  const byAt = new Map<number, number>();
  for (const r of results) if (r.journeyId && r.launchedAt !== undefined) byAt.set(r.launchedAt, (byAt.get(r.launchedAt) ?? 0) + 1);
  return [...byAt].map(([at, n]) => ({ at, n }));
}
