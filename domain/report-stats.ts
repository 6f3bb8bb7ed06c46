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

/** Nearest-rank percentiles of durations given in milliseconds, answered in seconds. */
export function durationStats(durationsMs: number[]): DurationStats {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const rank = (q: number) => (sorted.length ? seconds(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]) : null);
  return { count: sorted.length, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) };
}

/** The share of durations at or under `limitMs`, rounded to 4 places; null when there are none. */
export function shareWithin(durationsMs: number[], limitMs: number): number | null {
  if (durationsMs.length === 0) return null;
  return Math.round((durationsMs.filter((d) => d <= limitMs).length / durationsMs.length) * 10_000) / 10_000;
}

/** Milliseconds between two ISO times or dates; undefined when either is missing or the order is wrong. */
export function elapsedMs(from: unknown, to: unknown): number | undefined {
  const a = from instanceof Date ? from.getTime() : typeof from === 'string' ? Date.parse(from) : NaN;
  const b = to instanceof Date ? to.getTime() : typeof to === 'string' ? Date.parse(to) : NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? b - a : undefined;
}
