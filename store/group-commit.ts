import { withinMs } from '../lib/within-ms';

/**
 * Store commands of one kind from many callers, sent as one while the previous one is in flight
 * (group commit, and the same for reads by `_id`). A call that finds nothing in flight goes at once,
 * so a store that keeps up sees the same commands as before; one that falls behind, and only then,
 * gets fewer and larger ones: each command costs the store, the driver and both processes' loopback
 * far more than the document in it. A call never joins a command already sent, so whatever its
 * caller wrote before the call is in the store before the command that carries it (the send fence
 * relies on that order). Not for a chain an acknowledgement waits on: a call can wait one command.
 */
export interface Batched<T, R> {
  /** Resolves with this item's result once the command that took it is done; rejects with its own error. */
  add(item: T): Promise<R>;
}

/** Each item's outcome in a batch, in the items' order. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; err: unknown };

/** The largest batch: a backlog past it goes out as several commands, one after another. */
const MAX_BATCH = 500;
/**
 * How long the calls behind a command wait for it before their own goes anyway. A command that never
 * answers (a connection gone silent: the driver sets no socket timeout) would otherwise hold every
 * later call of its kind. Its own callers still wait for its answer, as each would for a command of
 * its own: failing them here would report a failure for a write the store may yet make, and reach
 * callers that had no reason to expect one.
 */
const COMMAND_WAIT_MS = 30_000;

type Waiting<T, R> = { item: T; resolve: (r: R) => void; reject: (err: unknown) => void };

function settle<T, R>(batch: Waiting<T, R>[], answer: { outcomes: ItemOutcome<R>[] } | { err: unknown }): void {
  if ('err' in answer) {
    for (const b of batch) b.reject(answer.err);
    return;
  }
  batch.forEach((b, i) => {
    const o = answer.outcomes[i];
    if (o?.ok) b.resolve(o.value);
    else b.reject(o ? o.err : new Error('a batched store command answered for fewer items than it was given'));
  });
}

export function batched<T, R>(run: (items: T[]) => Promise<ItemOutcome<R>[]>, maxBatch = MAX_BATCH, waitMs = COMMAND_WAIT_MS): Batched<T, R> {
  const queue: Waiting<T, R>[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        const answered = run(batch.map((b) => b.item)).then(
          (outcomes) => ({ outcomes }),
          (err: unknown) => ({ err }),
        );
        const answer = await withinMs(answered, waitMs);
        // Past the wait the next command goes; this one's callers are answered whenever it is.
        if (answer) settle(batch, answer);
        else void answered.then((late) => settle(batch, late));
      }
    } finally {
      running = false;
    }
  }

  return {
    add(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}

/**
 * Writes whose batch either succeeds or is written again one item at a time (each write idempotent):
 * FerretDB 1.24 stops an unordered batch at its first refusal without saying what it left out.
 */
export function groupCommit<T>(writeMany: (items: T[]) => Promise<unknown>, writeOne: (item: T) => Promise<unknown> = (item) => writeMany([item])): Batched<T, void> {
  return batched<T, void>(async (items) => {
    try {
      await (items.length === 1 ? writeOne(items[0]) : writeMany(items));
      return items.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      if (items.length === 1) return [{ ok: false, err }];
      const outcomes: ItemOutcome<void>[] = [];
      for (const item of items) outcomes.push(await writeOne(item).then(() => ({ ok: true as const, value: undefined }), (e: unknown) => ({ ok: false as const, err: e })));
      return outcomes;
    }
  });
}

/** Documents read by `_id`, those asked for while one read is in flight together by `_id: { $in }` (an index lookup, on the embedded FerretDB patched). */
export function readsById<D extends { _id: string }>(readOne: (id: string) => Promise<D | null>, readMany: (ids: string[]) => Promise<D[]>): Batched<string, D | null> {
  return batched<string, D | null>(async (ids) => {
    if (ids.length === 1) return [{ ok: true, value: await readOne(ids[0]) }];
    const byId = new Map((await readMany(ids)).map((d) => [d._id, d]));
    return ids.map((id) => ({ ok: true, value: byId.get(id) ?? null }));
  });
}

/** Deletes by `_id`, those asked for while one is in flight together in one `deleteMany`. */
export function deletesById(collection: { deleteOne(filter: { _id: string }): Promise<unknown>; deleteMany(filter: { _id: { $in: string[] } }): Promise<unknown> }): Batched<string, void> {
  return groupCommit<string>(
    (ids) => collection.deleteMany({ _id: { $in: ids } }),
    (id) => collection.deleteOne({ _id: id }),
  );
}

/** One batcher per store and kind, made on first use. */
export function perStore<S extends object, B>(make: (store: S) => B): (store: S) => B {
  const made = new WeakMap<S, B>();
  return (store) => {
    let b = made.get(store);
    if (!b) made.set(store, (b = make(store)));
    return b;
  };
}
