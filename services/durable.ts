/**
 * Webhooks answer only once an event is durable. Temporal usually takes it in milliseconds; when it is
 * overloaded or down, the event is kept in the store instead, and a sweep hands it over later:
 * Twilio gives up on a webhook after 15 s and does not send it again.
 */

/** How long a webhook waits for Temporal before keeping the event in the store. */
export const TEMPORAL_WAIT_MS = 5_000;

export type Handover<T> = { taken: true; value: T } | { taken: false };

/**
 * Hands `send` to Temporal, waiting up to waitMs; past that (or on an error) `keep` stores the event.
 * A send that lands late calls `dropKept`, so the sweep finds nothing left to do. Throws only when both
 * Temporal and the store fail: then nothing is durable and the caller must not acknowledge.
 */
export async function handOverOrKeep<T>(send: Promise<T>, keep: () => Promise<void>, dropKept: () => Promise<void>, waitMs = TEMPORAL_WAIT_MS): Promise<Handover<T>> {
  const settled = send.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([settled, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)))]);
  clearTimeout(timer);
  if (first?.ok) return { taken: true, value: first.value };
  try {
    await keep();
  } catch (storeErr) {
    throw first && !first.ok ? first.err : storeErr;
  }
  void settled.then(async (late) => {
    if (late.ok) await dropKept().catch(() => undefined);
  });
  return { taken: false };
}
