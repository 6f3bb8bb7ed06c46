/* Pure arithmetic of the consent report: time buckets, counts, percentiles. All times are UTC. */

export type ReportInterval = 'day' | 'week';

const DAY_MS = 86_400_000;

/** The start of the UTC day, or of the ISO week (Monday), that holds `ms`. */
export function bucketStart(ms: number, interval: ReportInterval): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  if (interval === 'day') return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  return day - weekday * DAY_MS;
}

/** Every bucket start from the one holding `from` up to (not including) `to`. */
export function bucketStarts(from: number, to: number, interval: ReportInterval): number[] {
  const step = interval === 'day' ? DAY_MS : 7 * DAY_MS;
  const starts: number[] = [];
  for (let t = bucketStart(from, interval); t < to; t += step) starts.push(t);
  return starts;
}

/** Adds one to `key` of a tally. */
export function tally(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export interface DurationStats {
  count: number;
  /** Seconds; null when there is nothing to measure. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Durations counted by value, each value cut to three significant digits (123,456 ms counts as
 * 123,000 ms; under a second, to the millisecond). Days add up to any window by adding counts, and a
 * day holds at most 900 values per power of ten however many opt-outs or answers it saw. A percentile
 * read from these counts is the exact nearest-rank percentile cut to three significant digits: under
 * it by less than 1 % (0.1 % from 999 on), exact for any duration of three significant digits or fewer.
 */
export type DurationCounts = Record<string, number>;

/** `ms` cut (down) to three significant digits, in whole milliseconds. */
export function significantMs(ms: number): number {
  const v = Math.max(0, Math.round(ms));
  const step = 10 ** Math.max(0, String(v).length - 3);
  return Math.floor(v / step) * step;
}

export function countDuration(counts: DurationCounts, ms: number): void {
  tally(counts, String(significantMs(ms)));
}

export function addDurationCounts(into: DurationCounts, from: DurationCounts): void {
  for (const [k, n] of Object.entries(from)) tally(into, k, n);
}

/** Nearest-rank percentiles of counted durations, answered in seconds. */
export function countedStats(counts: DurationCounts): DurationStats {
  const values = Object.entries(counts)
    .map(([k, n]) => [Number(k), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const count = values.reduce((sum, [, n]) => sum + n, 0);
  const rank = (q: number) => {
    const wanted = Math.max(1, Math.ceil(q * count));
    let seen = 0;
    for (const [v, n] of values) if ((seen += n) >= wanted) return seconds(v);
    return null;
  };
  return { count, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) };
}

/** Nearest-rank percentiles of durations given in milliseconds (each cut to three significant digits), in seconds. */
export function durationStats(durationsMs: number[]): DurationStats {
  const counts: DurationCounts = {};
  for (const ms of durationsMs) countDuration(counts, ms);
  return countedStats(counts);
}

/** `part` of `whole` rounded to 4 places; null when `whole` is 0. */
export function share(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

/** Milliseconds between two ISO times or dates; undefined when either is missing or the order is wrong. */
export function elapsedMs(from: unknown, to: unknown): number | undefined {
  const a = from instanceof Date ? from.getTime() : typeof from === 'string' ? Date.parse(from) : NaN;
  const b = to instanceof Date ? to.getTime() : typeof to === 'string' ? Date.parse(to) : NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? b - a : undefined;
}
