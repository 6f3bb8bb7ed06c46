import { deletesById, perStore } from './group-commit';
import type { Store } from './models';

/**
 * A collection of work a request accepted while Temporal could not take it, kept until a sweep hands
 * it over. Keyed by the work's own id, so keeping it twice keeps it once; listed oldest first.
 */
export function keptCollection<Fields extends Record<string, unknown>>(name: string) {
  type Doc = Fields & { _id: string; at: Date };
  const of = (store: Store) => store.connection.collection<Doc>(name);
  // Drops follow the hand-over and nothing waits on them: those that come while one is written go together.
  const drops = perStore((store: Store) => deletesById(store.connection.collection<{ _id: string }>(name)));
  return {
    async keep(store: Store, id: string, fields: Fields): Promise<void> {
      await of(store).updateOne({ _id: id } as never, { $setOnInsert: { ...fields, at: new Date() } } as never, { upsert: true });
    },
    /** The oldest first; with `keptBefore`, only those kept before it. */
    async list(store: Store, limit: number, keptBefore?: Date): Promise<Doc[]> {
      const filter = keptBefore ? { at: { $lt: keptBefore } } : {};
      return (await of(store).find(filter as never).sort({ at: 1 }).limit(limit).toArray()) as unknown as Doc[];
    },
    async drop(store: Store, id: string): Promise<void> {
      await drops(store).add(id);
    },
    /** How many wait for the sweep (normally none: a few only while Temporal is slow or down). */
    async count(store: Store): Promise<number> {
      return of(store).countDocuments({});
    },
  };
}
