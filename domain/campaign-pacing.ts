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

/** How many journeys may start at `now`, or how long to wait before the next one may. */
export function allowance(state: PacerState, limits: PacingLimits, now: number): { allowed: number; waitMs: number } {
  const { windowMs, perWindow } = pacingWindow(limits);
  const inWindow = now < state.windowStartedAt + windowMs ? state.startedInWindow : 0;
  const inDay = now < state.dayStartedAt + DAY_MS ? state.startedInDay : 0;
  const byRate = perWindow - inWindow;
  const byDay = limits.dailyNewContacts === undefined ? Number.POSITIVE_INFINITY : limits.dailyNewContacts - inDay;
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

/** Rows read per page: about ten seconds of sending, so a page never outlives its quiet-hours check by much. */
export function rowPageSize(limits: PacingLimits): number {
  return Math.min(500, Math.max(20, Math.ceil(limits.perSecond * 10)));
}
