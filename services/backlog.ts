import type { Store } from '../store/models';
import { countStuckSends } from '../store/outbox';
import { countPendingEvents } from '../store/pending-events';
import { countPendingOptOuts } from '../store/pending-optouts';

/** What the sweeps still have to hand to Temporal: opt-outs and contact events kept in the store. */
export async function pendingBacklog(store: Store): Promise<{ optOuts: number; events: number }> {
  const [optOuts, events] = await Promise.all([countPendingOptOuts(store), countPendingEvents(store)]);
  return { optOuts, events };
}

/** A send claimed or ambiguous for longer than this is backlog: a healthy send finishes in seconds. */
export const OUTBOX_STUCK_AFTER_S = 60;

/** Outbox rows stuck claimed or ambiguous for more than OUTBOX_STUCK_AFTER_S. */
export function outboxBacklog(store: Store, now = Date.now()): Promise<{ claimed: number; ambiguous: number }> {
  return countStuckSends(store, new Date(now - OUTBOX_STUCK_AFTER_S * 1000));
}
