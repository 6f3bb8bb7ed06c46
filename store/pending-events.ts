import type { InboundMessageInput } from '../workflows/inbound/contract';
import { keptCollection } from './kept';
import type { Store } from './models';

/**
 * Contact events Temporal did not take in time (a server overloaded or down): a reply to start its
 * inbound workflow, or a signal for a journey (a key pressed in a call, a delivery report). Kept
 * until a sweep hands them over, oldest first; the id is the event's own (MessageSid, CallSid + kind),
 * so a repeated webhook delivery keeps one document.
 */
export type PendingEvent =
  | { kind: 'inbound_message'; input: InboundMessageInput }
  | { kind: 'journey_signal'; workflowId: string; runId?: string; signal: string; arg: unknown };

export interface PendingEventDoc {
  _id: string;
  /** Events of one contact (or one journey run) are handed over in the order they arrived. */
  stream: string;
  at: Date;
  event: PendingEvent;
}

const kept = keptCollection<{ stream: string; event: PendingEvent }>('events_pending');

export async function keepPendingEvent(store: Store, id: string, stream: string, event: PendingEvent): Promise<void> {
  await kept.keep(store, id, { stream, event });
}

/** The oldest kept events first. */
export const listPendingEvents = (store: Store, limit: number): Promise<PendingEventDoc[]> => kept.list(store, limit);
export const dropPendingEvent = (store: Store, id: string): Promise<void> => kept.drop(store, id);
export const countPendingEvents = (store: Store): Promise<number> => kept.count(store);
