/**
 * Counts events per key in a sliding window, in this process's memory. Enough to stop one browser or
 * script from making us message a stranger's phone again and again; several API instances each count alone.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Milliseconds until the key may be used again; 0 when it may be used now. */
  waitFor(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    return recent.length < this.limit ? 0 : recent[recent.length - this.limit] + this.windowMs - now;
  }

  record(key: string, now = Date.now()): void {
    this.hits.set(key, [...this.recent(key, now), now]);
    if (this.hits.size > 10_000) this.sweep(now);
  }

  private recent(key: string, now: number): number[] {
    return (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }

  private sweep(now: number): void {
    for (const [key, stamps] of this.hits) if (!stamps.some((t) => t > now - this.windowMs)) this.hits.delete(key);
  }
}
