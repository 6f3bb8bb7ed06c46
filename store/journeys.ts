import { withStorableKeys } from '../domain/payload';
import type { Store } from './models';

export interface JourneyStart {
  _id: string;
  workflowId: string;
  runId: string;
  businessId: string;
  contactId: string;
  campaignId?: string;
  categories: string[];
  plan: unknown;
  source?: unknown;
  startedAt: Date;
}

/** The journey's document, written once when it begins; a retried first step finds it and changes nothing. */
export async function recordJourneyStart(store: Store, j: JourneyStart): Promise<void> {
  const { _id, ...fields } = j;
  await store.journeys.updateOne({ _id }, { $setOnInsert: { ...fields, status: 'active' } }, { upsert: true });
}

export interface InboundMessageRecord {
  _id: string;
  businessId: string;
  contactId: string;
  channel: string;
  from: string;
  intent: string;
  routedTo: string;
  receivedAt: Date;
  payload: Record<string, unknown>;
  /** The stored whole of a payload too large or oddly named to keep here (store/payloads.ts). */
  payloadRef?: string;
}

/** Every inbound message is kept once, keyed by the provider's message id; field names the store refuses are made storable. */
export async function keepInboundMessage(store: Store, m: InboundMessageRecord): Promise<void> {
  const { _id, ...fields } = m;
  await store.inbound.updateOne({ _id }, { $setOnInsert: { ...fields, payload: withStorableKeys(fields.payload) } }, { upsert: true });
}
