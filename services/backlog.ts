import type { Store } from '../store/models';
import { countPendingEvents } from '../store/pending-events';
import { countPendingOptOuts } from '../store/pending-optouts';

/** What the sweeps still have to hand to Temporal: opt-outs and contact events kept in the store. */
export async function pendingBacklog(store: Store): Promise<{ optOuts: number; events: number }> {
  const [optOuts, events] = await Promise.all([countPendingOptOuts(store), countPendingEvents(store)]);
  return { optOuts, events };
}
