/**
 * Writes of one kind from many callers, sent as one command while the previous one is in flight
 * (group commit). A write that finds nothing in flight goes at once, so a store that keeps up sees
 * the same commands as before; one that falls behind, and only then, gets fewer and larger ones:
 * each command costs the store, the driver and both processes' loopback far more than the document
 * in it. Only for writes whose callers can wait one round trip longer (what follows a webhook's
 * answer, a mark taken back), never for a chain an acknowledgement waits on.
 */
export interface GroupCommit<T> {
  /** Resolves once the item is written (in whatever batch took it); rejects with that batch's error. */
  add(item: T): Promise<void>;
}

/** The largest batch: a backlog past it goes out as several commands, one after another. */
const MAX_BATCH = 500;

export function groupCommit<T>(write: (items: T[]) => Promise<void>, maxBatch = MAX_BATCH): GroupCommit<T> {
  const queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          await write(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    add(item: T): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}

/** One group commit per store and kind, made on first use. */
export function perStore<S extends object, T>(make: (store: S) => GroupCommit<T>): (store: S) => GroupCommit<T> {
  const made = new WeakMap<S, GroupCommit<T>>();
  return (store) => {
    let g = made.get(store);
    if (!g) made.set(store, (g = make(store)));
    return g;
  };
}
