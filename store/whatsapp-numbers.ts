import { createHash } from 'node:crypto';
import type { Business } from '../domain/business';
import { effectiveWhatsappTier } from '../domain/whatsapp-tier';
import { isDuplicateKey } from './errors';
import type { Store } from './models';

/**
 * What WhatsApp itself reports about a business's number (quality flags, messaging limit changes,
 * account events): every event kept once, keyed by a hash of what Meta sent, so a redelivered webhook
 * changes nothing; and the number's latest state, written only after its event is kept.
 */
export interface WhatsappNumberEvent {
  businessId: string;
  phoneNumberId?: string;
  /** phone_number_quality_update or account_update */
  field: string;
  event: string;
  /** Meta's messaging limit tier after the event (TIER_1K, ...), when it says. */
  currentLimit?: string;
  /** The number's quality rating as Meta gave it when the event came (read from the Graph API). */
  quality?: string;
  payload: Record<string, unknown>;
  receivedAt: Date;
}

export interface WhatsappNumberState {
  _id: string;
  businessId: string;
  lastEvent: string;
  flagged: boolean;
  quality?: string;
  qualitySince?: Date;
  currentLimit?: string;
  updatedAt: Date;
}

const eventsOf = (store: Store) => store.connection.collection<WhatsappNumberEvent & { _id: string }>('whatsapp_number_events');
const numbersOf = (store: Store) => store.connection.collection<WhatsappNumberState>('whatsapp_numbers');

/** The id of an event: the same webhook change delivered twice has the same one. */
export function numberEventId(businessId: string, field: string, value: unknown): string {
  return `${businessId}:${field}:${createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32)}`;
}

/** Keeps the event; false when it was kept already (a redelivery), and then nothing else changes. */
export async function keepNumberEvent(store: Store, id: string, e: WhatsappNumberEvent): Promise<boolean> {
  try {
    await eventsOf(store).insertOne({ _id: id, ...e });
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  const set: Partial<WhatsappNumberState> = { businessId: e.businessId, lastEvent: e.event, updatedAt: e.receivedAt };
  if (e.event === 'FLAGGED') set.flagged = true;
  if (e.event === 'UNFLAGGED') set.flagged = false;
  if (e.currentLimit) set.currentLimit = e.currentLimit;
  if (e.quality) {
    const before = await numberStateOf(store, e.businessId);
    set.quality = e.quality;
    if (before?.quality !== e.quality) set.qualitySince = e.receivedAt;
  }
  await numbersOf(store).updateOne({ _id: e.businessId }, { $set: set }, { upsert: true });
  return true;
}

export async function numberStateOf(store: Store, businessId: string): Promise<WhatsappNumberState | null> {
  return numbersOf(store).findOne({ _id: businessId });
}

export async function numberEventsOf(store: Store, businessId: string): Promise<WhatsappNumberEvent[]> {
  return eventsOf(store).find({ businessId }).sort({ receivedAt: 1 }).toArray();
}

/** The business as it sends now: its WhatsApp tier follows the messaging limit Meta last reported. */
export async function withReportedTier(store: Store, business: Business): Promise<Business> {
  if (business.whatsapp.provider !== 'meta') return business;
  const state = await numberStateOf(store, business.id);
  const whatsappTier = effectiveWhatsappTier(business.sending.whatsappTier, state?.currentLimit);
  return whatsappTier === business.sending.whatsappTier ? business : { ...business, sending: { ...business.sending, whatsappTier } };
}
