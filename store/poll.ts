/**
 * Reads until `done` holds or `waitMs` (counted from the call) has passed, and answers the last read.
 * What is waited for usually comes within milliseconds but can take seconds, so the first re-read
 * comes soon after `firstDelayMs` and each next one twice as late, up to `maxDelayMs` when given: a
 * slow wait then reads a busy store a few times, not many times a second. The last sleep ends at the
 * deadline, so the answer is as of then, not as of a read up to one delay before.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  o: { firstDelayMs: number; maxDelayMs?: number; waitMs: number },
): Promise<T> {
  const deadline = Date.now() + o.waitMs;
  for (let delay = o.firstDelayMs; ; delay = Math.min(delay * 2, o.maxDelayMs ?? Infinity)) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))));
  }
}
