/**
 * Quiet hours in the contact's time zones: whether a row may be asked now, and when that changes.
 * No I/O, no clock: every function takes the instant it reasons about.
 */

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
const DAY_MS = 86_400_000;

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
