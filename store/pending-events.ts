import type { InboundMessageInput } from '../workflows/inbound/contract';
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

const pendingOf = (store: Store) => store.connection.collection<PendingEventDoc>('events_pending');

export async function keepPendingEvent(store: Store, id: string, stream: string, event: PendingEvent): Promise<void> {
  await pendingOf(store).updateOne({ _id: id }, { $setOnInsert: { stream, event, at: new Date() } }, { upsert: true });
}

/** The oldest kept events first. */
export async function listPendingEvents(store: Store, limit: number): Promise<PendingEventDoc[]> {
  return pendingOf(store).find({}).sort({ at: 1 }).limit(limit).toArray();
}

export async function dropPendingEvent(store: Store, id: string): Promise<void> {
  await pendingOf(store).deleteOne({ _id: id });
}

/** How many contact events wait for the sweep (normally none: a few only while Temporal is slow or down). */
export async function countPendingEvents(store: Store): Promise<number> {
  return pendingOf(store).countDocuments({});
}
