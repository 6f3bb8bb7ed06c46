import { withStorableKeys } from '../domain/payload';
import type { OptOutInput } from '../workflows/optout/contract';
import type { Store } from './models';

/**
 * Opt-outs Temporal did not take in time (a server overloaded or down), kept until a sweep starts
 * their workflow. The document's id is the opt-out's workflow id, so keeping one twice keeps it once.
 */
interface PendingOptOutDoc {
  _id: string;
  input: OptOutInput;
  at: Date;
}
const pendingOf = (store: Store) => store.connection.collection<PendingOptOutDoc>('optout_pending');

export async function keepPendingOptOut(store: Store, optOutId: string, input: OptOutInput): Promise<void> {
  await pendingOf(store).updateOne({ _id: optOutId }, { $setOnInsert: { input: withStorableKeys(input), at: new Date() } }, { upsert: true });
}

/** The oldest kept opt-outs first. */
export async function listPendingOptOuts(store: Store, limit: number): Promise<PendingOptOutDoc[]> {
  return pendingOf(store).find({}).sort({ at: 1 }).limit(limit).toArray();
}

export async function dropPendingOptOut(store: Store, optOutId: string): Promise<void> {
  await pendingOf(store).deleteOne({ _id: optOutId });
}

/** How many opt-outs wait for the sweep (normally none: a few only while Temporal is slow or down). */
export async function countPendingOptOuts(store: Store): Promise<number> {
  return pendingOf(store).countDocuments({});
}
