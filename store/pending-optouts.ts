import { withStorableKeys } from '../domain/payload';
import type { OptOutInput } from '../workflows/optout/contract';
import { keptCollection } from './kept';
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
const kept = keptCollection<{ input: OptOutInput }>('optout_pending');

export async function keepPendingOptOut(store: Store, optOutId: string, input: OptOutInput): Promise<void> {
  await kept.keep(store, optOutId, { input: withStorableKeys(input) });
}

/** The oldest kept opt-outs first; with `keptBefore`, only those kept before it. */
export const listPendingOptOuts = (store: Store, limit: number, keptBefore?: Date): Promise<PendingOptOutDoc[]> => kept.list(store, limit, keptBefore);
export const dropPendingOptOut = (store: Store, optOutId: string): Promise<void> => kept.drop(store, optOutId);
export const countPendingOptOuts = (store: Store): Promise<number> => kept.count(store);
