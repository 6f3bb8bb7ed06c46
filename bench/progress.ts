/** How long a pass may go without any progress before the bench calls it stalled. */
export const STALL_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until count() reaches target, giving up after timeoutMs, or earlier when the count has not
 * moved for stallMs: a pass whose servers stopped answering (the dev server's SQLite once answered
 * "shard status unknown" to every call under load) then says so in minutes, with how far it got,
 * instead of waiting out the whole timeout.
 */
export async function waitForCount(count: () => number, target: number, o: { timeoutMs: number; intervalMs: number; what: string; stallMs?: number }): Promise<void> {
  const stallMs = o.stallMs ?? STALL_MS;
  const began = Date.now();
  let last = count();
  let movedAt = began;
  while (last < target) {
    const now = Date.now();
    if (now - began >= o.timeoutMs) throw new Error(`timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for ${o.what}: ${last} of ${target}`);
    if (now - movedAt >= stallMs) throw new Error(`stalled waiting for ${o.what}: ${last} of ${target}, and none more for ${Math.round(stallMs / 1000)} s (see the worker's and Temporal's logs)`);
    await sleep(o.intervalMs);
    const n = count();
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    }
  }
}
