import type { Business, Channel } from './business';

/**
 * Pure campaign rules shared by the API (row checks), the activities (quiet hours) and the
 * campaign workflow (pacing). No I/O, no clock: every function takes the time it reasons about.
 */

export const MAX_CAMPAIGN_ROWS = 100_000;
export const MAX_CSV_BYTES = 10 * 1024 * 1024;
export const CSV_COLUMNS = ['phone', 'email', 'locale', 'timezone', 'name'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Why a row got no journey. The first six are decided when the file arrives, the rest while starting. */
export const SKIP_REASONS = [
  'invalid_phone',
  'invalid_field',
  'duplicate_in_file',
  'opted_out',
  'already_opted_in',
  'frequency_cap',
  'journey_already_running',
  'campaign_cancelled',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const CAMPAIGN_STATUSES = ['running', 'paused', 'cancelling', 'cancelled', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export function isFinalCampaignStatus(s: string): boolean {
  return s === 'cancelled' || s === 'completed';
}

// ---------------------------------------------------------------------------------------------
// Pacing

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

// ---------------------------------------------------------------------------------------------
// Quiet hours

export interface QuietHours {
  start: string;
  end: string;
}

export function minutesOfClock(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new Error(`not a clock time: "${hhmm}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight in `tz` at `at`. */
export function localMinutes(at: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  const parts = f.formatToParts(new Date(at));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return (hour % 24) * 60 + minute;
}

/** Quiet hours may wrap midnight (21:00–08:00) or not (12:00–14:00); equal start and end means none. */
export function isQuietIn(at: number, tz: string, quiet: QuietHours): boolean {
  const start = minutesOfClock(quiet.start);
  const end = minutesOfClock(quiet.end);
  if (start === end) return false;
  const now = localMinutes(at, tz);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/** Quiet when it is quiet in any of the contact's possible zones (a country spanning several). */
export function isQuiet(at: number, zones: readonly string[], quiet: QuietHours): boolean {
  return zones.some((tz) => isQuietIn(at, tz, quiet));
}

const MINUTE = 60_000;

/** Minutes from `at` until local clock `target` in `tz`, ignoring a DST jump that the caller re-checks. */
function minutesUntilClock(at: number, tz: string, target: number): number {
  const delta = (target - localMinutes(at, tz) + 1440) % 1440;
  return delta === 0 ? 1440 : delta;
}

/**
 * The first instant at or after `at` when no zone is in quiet hours. Steps towards each zone's end
 * of quiet time, re-reading the local clock as it goes. Undefined if none within 3 days (zones whose
 * allowed hours never overlap).
 */
export function quietEndsAt(at: number, zones: readonly string[], quiet: QuietHours): number | undefined {
  const end = minutesOfClock(quiet.end);
  let t = Math.floor(at / MINUTE) * MINUTE;
  if (t < at) t += MINUTE;
  if (!isQuiet(at, zones, quiet)) return at;
  for (let guard = 0; guard < 200 && t < at + 3 * DAY_MS; guard++) {
    const stillQuiet = zones.filter((tz) => isQuietIn(t, tz, quiet));
    if (stillQuiet.length === 0) return t;
    const jump = Math.max(1, Math.min(...stillQuiet.map((tz) => minutesUntilClock(t, tz, end))));
    // Land two hours short and look again: a summer-time change in between would make us overshoot.
    t += (jump > 120 ? jump - 120 : jump) * MINUTE;
  }
  return undefined;
}

/** When the allowed time that contains `at` ends (the next quiet start in any zone). */
export function quietStartsAt(at: number, zones: readonly string[], quiet: QuietHours): number | undefined {
  const start = minutesOfClock(quiet.start);
  if (start === minutesOfClock(quiet.end)) return undefined;
  const base = Math.floor(at / MINUTE) * MINUTE;
  const startIn = (tz: string) => {
    let t = base;
    for (;;) {
      const delta = minutesUntilClock(t, tz, start);
      if (delta <= 120) return t + delta * MINUTE;
      t += (delta - 120) * MINUTE;
    }
  };
  return Math.min(...zones.map(startIn));
}

/**
 * Time zones by calling-code country. Countries that span several zones list their main ones; the
 * contact is treated as local to all of them (quiet if quiet in any), since the number alone does
 * not tell which. A row's own `timezone` column always wins.
 */
const COUNTRY_ZONES: Record<string, string[]> = {
  US: ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'],
  CA: ['America/Halifax', 'America/Toronto', 'America/Winnipeg', 'America/Edmonton', 'America/Vancouver'],
  MX: ['America/Cancun', 'America/Mexico_City', 'America/Tijuana'],
  BR: ['America/Sao_Paulo', 'America/Manaus'],
  AR: ['America/Argentina/Buenos_Aires'],
  CL: ['America/Santiago'],
  CO: ['America/Bogota'],
  PE: ['America/Lima'],
  VE: ['America/Caracas'],
  EC: ['America/Guayaquil'],
  UY: ['America/Montevideo'],
  PY: ['America/Asuncion'],
  BO: ['America/La_Paz'],
  GB: ['Europe/London'],
  IE: ['Europe/Dublin'],
  FR: ['Europe/Paris'],
  DE: ['Europe/Berlin'],
  ES: ['Europe/Madrid'],
  PT: ['Europe/Lisbon'],
  IT: ['Europe/Rome'],
  NL: ['Europe/Amsterdam'],
  BE: ['Europe/Brussels'],
  CH: ['Europe/Zurich'],
  AT: ['Europe/Vienna'],
  SE: ['Europe/Stockholm'],
  NO: ['Europe/Oslo'],
  DK: ['Europe/Copenhagen'],
  FI: ['Europe/Helsinki'],
  PL: ['Europe/Warsaw'],
  CZ: ['Europe/Prague'],
  GR: ['Europe/Athens'],
  RO: ['Europe/Bucharest'],
  HU: ['Europe/Budapest'],
  UA: ['Europe/Kyiv'],
  TR: ['Europe/Istanbul'],
  RU: ['Europe/Moscow'],
  IL: ['Asia/Jerusalem'],
  AE: ['Asia/Dubai'],
  SA: ['Asia/Riyadh'],
  EG: ['Africa/Cairo'],
  NG: ['Africa/Lagos'],
  KE: ['Africa/Nairobi'],
  ZA: ['Africa/Johannesburg'],
  MA: ['Africa/Casablanca'],
  IN: ['Asia/Kolkata'],
  PK: ['Asia/Karachi'],
  BD: ['Asia/Dhaka'],
  ID: ['Asia/Jakarta', 'Asia/Makassar'],
  MY: ['Asia/Kuala_Lumpur'],
  SG: ['Asia/Singapore'],
  PH: ['Asia/Manila'],
  TH: ['Asia/Bangkok'],
  VN: ['Asia/Ho_Chi_Minh'],
  CN: ['Asia/Shanghai'],
  HK: ['Asia/Hong_Kong'],
  JP: ['Asia/Tokyo'],
  KR: ['Asia/Seoul'],
  TW: ['Asia/Taipei'],
  AU: ['Australia/Sydney', 'Australia/Adelaide', 'Australia/Perth'],
  NZ: ['Pacific/Auckland'],
};

/** The zones a contact may be in: the row's own zone, else its phone's country's, else the business default. */
export function contactZones(rowTimezone: string | undefined, country: string | undefined, defaultTimezone: string): string[] {
  if (rowTimezone) return [rowTimezone];
  const byCountry = country ? COUNTRY_ZONES[country.toUpperCase()] : undefined;
  return byCountry ?? [defaultTimezone];
}

// ---------------------------------------------------------------------------------------------
// Figures

export interface JourneyCounts {
  active: number;
  confirmed: number;
  declined: number;
  expired: number;
  opted_out: number;
  cancelled: number;
}

/** Opt-in rate over journeys that reached an answer or a deadline; active ones do not count yet. */
export function optInRate(c: JourneyCounts): number {
  const ended = c.confirmed + c.declined + c.expired + c.opted_out + c.cancelled;
  return ended === 0 ? 0 : Math.round((c.confirmed / ended) * 10_000) / 10_000;
}

export function startedPerSecond(started: number, firstStartedAt?: number, lastStartedAt?: number): number {
  if (!firstStartedAt || !lastStartedAt || started < 2 || lastStartedAt <= firstStartedAt) return 0;
  return Math.round(((started - 1) / ((lastStartedAt - firstStartedAt) / 1000)) * 100) / 100;
}
