import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/consent-events';
import type { Store } from './models';

/**
 * A business's consent-change endpoints and the log of deliveries to them. One delivery document per
 * endpoint and ledger event (`<endpointId>:<eventId>`): attempts update it, so a retried or repeated
 * round finds an event already delivered by its `_id` and never sends it twice.
 */

const endpointSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: { type: String, required: true },
    url: { type: String, required: true },
    /** The HMAC key, sealed (lib/secret-box.ts; plain in endpoints registered before sealing); never returned after registration, never logged. */
    secret: { type: String, required: true },
    description: String,
    /** Ledger events recorded from this instant on are delivered; older ones only by a replay. */
    deliverFrom: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);
endpointSchema.index({ businessId: 1 });

const deliverySchema = new Schema(
  {
    _id: { type: String, required: true },
    endpointId: { type: String, required: true },
    eventId: { type: String, required: true },
    contactId: { type: String, required: true },
    category: String,
    type: String,
    /**
     * delivered: a 2xx came back; failing: the last attempt did not get one (it is tried again);
     * dead_letter: the receiver kept refusing it and it was set aside (a replay may still deliver it).
     */
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    deadLetteredAt: Date,
    attempts: { type: Number, default: 0 },
    /** Deliveries asked for by replay calls (each also counted in attempts). */
    replays: { type: Number, default: 0 },
    firstAttemptAt: Date,
    lastAttemptAt: Date,
    deliveredAt: Date,
    /** The receiver's HTTP status, or none when it could not be reached. */
    lastStatus: Number,
    /** Why the last attempt failed: a status or a network error code, never a body. */
    lastError: String,
  },
  { versionKey: false },
);
deliverySchema.index({ endpointId: 1, lastAttemptAt: -1 });

export type EventEndpointDoc = InferSchemaType<typeof endpointSchema>;
export type EventDeliveryDoc = InferSchemaType<typeof deliverySchema>;

export interface EventStore {
  endpoints: Model<EventEndpointDoc>;
  deliveries: Model<EventDeliveryDoc>;
}

/** The two collections on the store's connection (compiled once per connection). */
export function eventStoreOf(store: Store): EventStore {
  const c = store.connection;
  return {
    endpoints: (c.models.EventEndpoint as Model<EventEndpointDoc> | undefined) ?? c.model<EventEndpointDoc>('EventEndpoint', endpointSchema, 'event_endpoints'),
    deliveries: (c.models.EventDelivery as Model<EventDeliveryDoc> | undefined) ?? c.model<EventDeliveryDoc>('EventDelivery', deliverySchema, 'event_deliveries'),
  };
}

export const deliveryIdOf = (endpointId: string, eventId: string) => `${endpointId}:${eventId}`;

export async function insertEndpoint(store: Store, doc: Omit<EventEndpointDoc, 'createdAt' | 'updatedAt'> & { _id: string }): Promise<void> {
  await eventStoreOf(store).endpoints.create(doc);
}

export async function findEndpoint(store: Store, endpointId: string) {
  return eventStoreOf(store).endpoints.findById(endpointId).lean<(EventEndpointDoc & { _id: string }) | null>();
}

export async function endpointsOf(store: Store, businessId: string) {
  return eventStoreOf(store).endpoints.find({ businessId }).sort({ createdAt: 1 }).lean<(EventEndpointDoc & { _id: string })[]>();
}

export async function removeEndpoint(store: Store, endpointId: string): Promise<boolean> {
  return (await eventStoreOf(store).endpoints.deleteOne({ _id: endpointId })).deletedCount === 1;
}

/** Among these events: the ones settled for the endpoint (delivered or set aside), and the attempts each other one had. */
export async function deliveryStatesAmong(store: Store, endpointId: string, eventIds: string[]): Promise<{ settled: Set<string>; attempts: Map<string, number> }> {
  const settled = new Set<string>();
  const attempts = new Map<string, number>();
  if (eventIds.length === 0) return { settled, attempts };
  const docs = await eventStoreOf(store).deliveries.find({ _id: { $in: eventIds.map((id) => deliveryIdOf(endpointId, id)) } }, { eventId: 1, status: 1, attempts: 1 }).lean();
  for (const d of docs) {
    if (d.status === 'delivered' || d.status === 'dead_letter') settled.add(d.eventId);
    else attempts.set(d.eventId, d.attempts ?? 0);
  }
  return { settled, attempts };
}

export interface DeliveryAttempt {
  endpointId: string;
  event: { _id: string; contactId: string; category: string; type: string };
  ok: boolean;
  at: Date;
  replay: boolean;
  status?: number;
  error?: string;
  /** A refusal that sets the event aside (status dead_letter). */
  deadLetter?: boolean;
}

/** Records attempts in one round trip; a delivered event stays delivered whatever a later attempt says. */
export async function recordAttempts(store: Store, attempts: DeliveryAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  const { deliveries } = eventStoreOf(store);
  await deliveries.bulkWrite(
    attempts.map((a) => ({
      updateOne: {
        filter: { _id: deliveryIdOf(a.endpointId, a.event._id) },
        update: {
          $setOnInsert: { endpointId: a.endpointId, eventId: a.event._id, contactId: a.event.contactId, category: a.event.category, type: a.event.type, firstAttemptAt: a.at, ...(a.ok || a.deadLetter ? {} : { status: 'failing' }) },
          $inc: { attempts: 1, replays: a.replay ? 1 : 0 },
          $set: {
            lastAttemptAt: a.at,
            ...(a.status === undefined ? {} : { lastStatus: a.status }),
            ...(a.ok ? { status: 'delivered', deliveredAt: a.at } : { lastError: a.error ?? 'failed' }),
            ...(a.deadLetter ? { status: 'dead_letter', deadLetteredAt: a.at } : {}),
          },
          ...(a.ok ? { $unset: { lastError: 1 } } : {}),
        },
        upsert: true,
      },
    })),
    { ordered: true },
  );
}

export async function deliveriesOf(store: Store, endpointId: string, opts: { status?: DeliveryStatus; limit: number; before?: Date }) {
  const filter: Record<string, unknown> = { endpointId };
  if (opts.status) filter.status = opts.status;
  if (opts.before) filter.lastAttemptAt = { $lt: opts.before };
  return eventStoreOf(store).deliveries.find(filter).sort({ lastAttemptAt: -1 }).limit(opts.limit).lean<(EventDeliveryDoc & { _id: string })[]>();
}

/** Every endpoint's id and stored secret (plain or sealed). */
export async function endpointSecrets(store: Store) {
  return eventStoreOf(store).endpoints.find({}, { _id: 1, secret: 1 }).lean<Array<{ _id: string; secret: string }>>();
}

/** Replaces an endpoint's secret only while it is still `from`; true when this call replaced it. */
export async function replaceEndpointSecret(store: Store, endpointId: string, from: string, to: string): Promise<boolean> {
  const r = await eventStoreOf(store).endpoints.updateOne({ _id: endpointId, secret: from }, { $set: { secret: to } });
  return r.modifiedCount === 1;
}
