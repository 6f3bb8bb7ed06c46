import { EVENT_PROOF_FIELDS } from '../domain/consent-events';
import type { Store } from './models';

/**
 * The reads behind consent-change events: a business's ledger in the order it was recorded
 * (`recordedAt`, then `_id`), paged by that key, and in the order things happened (`at`, then `_id`)
 * for replays. Only what an event carries is read (store/event-endpoints.ts keeps what was sent).
 */

export interface FeedEvent {
  _id: string;
  businessId: string;
  contactId: string;
  phone: string;
  category: string;
  type: string;
  at: Date;
  recordedAt?: Date;
  proof?: Record<string, unknown>;
}

const PROJECTION = { _id: 1, businessId: 1, contactId: 1, phone: 1, category: 1, type: 1, at: 1, recordedAt: 1, ...Object.fromEntries(EVENT_PROOF_FIELDS.map((f) => [`proof.${f}`, 1])) };

export interface FeedKey {
  at: Date;
  id: string;
}

const after = (field: 'recordedAt' | 'at', key: FeedKey | undefined, from: Date) =>
  key ? { $or: [{ [field]: { $gt: key.at } }, { [field]: key.at, _id: { $gt: key.id } }] } : { [field]: { $gte: from } };

/** Up to `limit` events recorded in [from, until), after `key` when given, in recording order. */
export async function recordedBetween(store: Store, businessId: string, from: Date, until: Date, limit: number, key?: FeedKey): Promise<FeedEvent[]> {
  return store.consentEvents
    .find({ businessId, recordedAt: { $gte: from, $lt: until }, ...after('recordedAt', key, from) }, PROJECTION)
    .sort({ recordedAt: 1, _id: 1 })
    .limit(limit)
    .lean<FeedEvent[]>();
}

/** Up to `limit` events that happened from `since` (after `key` when given), in the order they happened. */
export async function happenedSince(store: Store, businessId: string, since: Date, limit: number, key?: FeedKey): Promise<FeedEvent[]> {
  return store.consentEvents
    .find({ businessId, at: { $gte: since }, ...after('at', key, since) }, PROJECTION)
    .sort({ at: 1, _id: 1 })
    .limit(limit)
    .lean<FeedEvent[]>();
}
