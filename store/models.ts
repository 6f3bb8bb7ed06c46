import { createHash } from 'node:crypto';
import mongoose, { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { createDeliveryReportIndexes } from './delivery-reports';

/**
 * Collections. Keys that must be unique are the documents' `_id`s, derived from business keys, so
 * uniqueness holds on FerretDB 1.24 too (it does not enforce unique indexes on missing fields, has no
 * transactions and no projection in findOneAndUpdate). Consent events are append-only.
 */

export function contactIdOf(businessId: string, phoneE164: string): string {
  return `c_${createHash('sha256').update(`${businessId}\n${phoneE164}`).digest('hex').slice(0, 24)}`;
}

const contactSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: { type: String, required: true },
    phone: { type: String, required: true },
    email: String,
    locale: String,
    timezone: String,
    name: String,
    /** 'opted_out' after STOP and the like: nothing but the one confirmation may be sent. */
    messaging: { type: String, enum: ['allowed', 'opted_out'], default: 'allowed' },
    optedOutAt: Date,
    lastWhatsappInboundAt: Date,
    lastRequestAt: Date,
    /**
     * Journeys begun for the contact, counted from its creation when `journeysCounted` (contacts created
     * before the count existed, or by bulk import, lack it): with one, no other journey can have sent it a request.
     */
    journeysBegun: Number,
    journeysCounted: Boolean,
    /** The journey begun last: an opt-out closes its record by _id (store/journeys.ts closeJourneyForOptOut). */
    currentJourneyId: String,
  },
  { timestamps: true, versionKey: false },
);
contactSchema.index({ businessId: 1, phone: 1 }, { unique: true });

const consentSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: { type: String, required: true },
    contactId: { type: String, required: true },
    phone: { type: String, required: true },
    category: { type: String, required: true },
    status: { type: String, enum: ['opted_in', 'opted_out'], required: true },
    since: { type: Date, required: true },
    lastEventId: { type: String, required: true },
    journeyId: String,
    confirmationMessageId: String,
    /** The export's fields of the setting event's proof (domain/consent-export.ts); absent on consents set before it was kept. */
    proofSummary: Schema.Types.Mixed,
  },
  { timestamps: true, versionKey: false },
);
consentSchema.index({ businessId: 1, contactId: 1, category: 1 }, { unique: true });
// Exports list a business's consents by status and category (MongoDB; FerretDB 1.24 uses only _id).
consentSchema.index({ businessId: 1, status: 1, category: 1 });

const consentEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: { type: String, required: true },
    contactId: { type: String, required: true },
    phone: { type: String, required: true },
    category: { type: String, required: true },
    type: { type: String, enum: ['opted_in', 'opted_out', 'declined', 'confirmation_sent', 'messaging_resumed', 'marketing_resumed', 'erased'], required: true },
    at: { type: Date, required: true },
    proof: { type: Schema.Types.Mixed, required: true },
    /** Who caused it (domain/access.ts LedgerActor): a key with its agent and ticket, the contact, the carrier, Optinflow. */
    actor: Schema.Types.Mixed,
    /** The salted digest of phone and proof, and its salt (store/ledger-chain.ts); erasure removes the salt, phone and proof. */
    personalDigest: String,
    personalSalt: String,
    erasedAt: Date,
    /** This event's link in its contact's chain: position, the previous link's hash, its own (store/ledger-chain.ts). */
    seq: Number,
    prevHash: String,
    hash: String,
    /** The event before it in the chain ('' for the first); absent on events linked by the previous version's link documents. */
    prevEventId: String,
    /** `${contactId}:${seq}`, under a unique index: two appends for one contact cannot take one position. */
    linkId: String,
    /**
     * When the writer stamped the insert (its clock, just before the write), unlike `at`, which can be
     * long past (a paper form's signing). Consent-change events are read in this order (store/ledger-feed.ts).
     */
    recordedAt: Date,
  },
  { versionKey: false },
);
consentEventSchema.index({ businessId: 1, contactId: 1, at: 1 });
// The consent report reads a business's ledger, journeys and opt-out confirmations by time (MongoDB; FerretDB 1.24 uses only _id).
consentEventSchema.index({ businessId: 1, at: 1 });
// Verification walks a business's chains contact by contact, in chain order.
consentEventSchema.index({ businessId: 1, contactId: 1, seq: 1 });
// Consent-change events are read by when they were written (store/ledger-feed.ts).
consentEventSchema.index({ businessId: 1, recordedAt: 1 });
// The arbiter of a chain's positions. Sparse: events not linked yet (written before the chain) have
// none (MongoDB would otherwise index them all as one null; FerretDB 1.24 skips missing fields anyway).
consentEventSchema.index({ linkId: 1 }, { unique: true, sparse: true });

const journeySchema = new Schema(
  {
    _id: { type: String, required: true },
    workflowId: { type: String, required: true },
    runId: { type: String, required: true },
    businessId: { type: String, required: true },
    contactId: { type: String, required: true },
    campaignId: String,
    campaignRow: Number,
    categories: [String],
    plan: Schema.Types.Mixed,
    source: Schema.Types.Mixed,
    /** The key that started it; the contact's answer names it as `requestedBy`. */
    actor: Schema.Types.Mixed,
    status: { type: String, required: true },
    state: Schema.Types.Mixed,
    startedAt: Date,
    endedAt: Date,
    /** The opt-out that closed the record ahead of the journey's own end, which then adds its state. */
    endedBy: String,
    /** Its workflow carries out an opt-out's step sent with the opt-out's signal (journeyWorkflowV5). */
    carriesOptOuts: Boolean,
  },
  { timestamps: true, versionKey: false },
);
journeySchema.index({ businessId: 1, contactId: 1 });
journeySchema.index({ businessId: 1, startedAt: 1 });

/** How an ambiguous send was settled (docs/ambiguous-sends.md): adopted, sent again, or left. */
const outboxResolutionSchema = new Schema(
  {
    outcome: { type: String, enum: ['found', 'resent', 'gave_up'], required: true },
    /** What decided it: status_callback, message_list, call_list, smtp_no_lookup, send_gate, ... */
    how: { type: String, required: true },
    at: { type: Date, required: true },
    detail: String,
    resends: { type: Number, default: 0 },
  },
  { _id: false },
);

const outboxSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: String,
    contactId: String,
    journeyId: String,
    channel: { type: String, required: true },
    purpose: { type: String, required: true },
    to: { type: String, required: true },
    /**
     * claimed → sent | failed | refused | ambiguous; released when a retry may safely send again;
     * ambiguous → sent (found at the provider) | claimed (sent again) | stays, with `resolution`.
     */
    status: { type: String, required: true },
    providerId: String,
    errorCode: Number,
    reason: String,
    attempts: { type: Number, default: 0 },
    claimedAt: Date,
    /** From when the provider may have taken the message without telling us. */
    ambiguousAt: Date,
    resolution: outboxResolutionSchema,
    sentAt: Date,
    shown: String,
    /** `meta` for sends through the WhatsApp Cloud API (providerId is then a wamid); absent for Twilio and SMTP. */
    provider: String,
    /** The approved template a WhatsApp send used, as the ledger's proof names it. */
    template: new Schema({ name: String, language: String }, { _id: false }),
  },
  { timestamps: true, versionKey: false },
);
outboxSchema.index({ businessId: 1, contactId: 1, createdAt: 1 });
outboxSchema.index({ businessId: 1, purpose: 1, createdAt: 1 });
// The outbox backlog gauge counts claimed and ambiguous rows by age at every scrape (MongoDB).
outboxSchema.index({ status: 1, claimedAt: 1 });

const inboundSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: String,
    contactId: String,
    channel: { type: String, required: true },
    from: { type: String, required: true },
    to: String,
    intent: String,
    routedTo: String,
    receivedAt: { type: Date, required: true },
    payload: Schema.Types.Mixed,
    /** The stored whole of a payload that had to be cut (store/payloads.ts). */
    payloadRef: String,
  },
  { timestamps: true, versionKey: false },
);
inboundSchema.index({ businessId: 1, contactId: 1, receivedAt: 1 });

export type ContactDoc = InferSchemaType<typeof contactSchema>;
export type ConsentDoc = InferSchemaType<typeof consentSchema>;
export type ConsentEventDoc = InferSchemaType<typeof consentEventSchema>;
export type JourneyDoc = InferSchemaType<typeof journeySchema>;
export type OutboxDoc = InferSchemaType<typeof outboxSchema>;
export type InboundDoc = InferSchemaType<typeof inboundSchema>;

export interface Store {
  connection: Connection;
  contacts: Model<ContactDoc>;
  consents: Model<ConsentDoc>;
  consentEvents: Model<ConsentEventDoc>;
  journeys: Model<JourneyDoc>;
  outbox: Model<OutboxDoc>;
  inbound: Model<InboundDoc>;
}

export function createStore(connection: Connection): Store {
  return {
    connection,
    contacts: connection.model<ContactDoc>('Contact', contactSchema, 'contacts'),
    consents: connection.model<ConsentDoc>('Consent', consentSchema, 'consents'),
    consentEvents: connection.model<ConsentEventDoc>('ConsentEvent', consentEventSchema, 'consent_events'),
    journeys: connection.model<JourneyDoc>('Journey', journeySchema, 'journeys'),
    outbox: connection.model<OutboxDoc>('Outbox', outboxSchema, 'outbox'),
    inbound: connection.model<InboundDoc>('Inbound', inboundSchema, 'inbound_messages'),
  };
}

export async function connectStore(uri: string): Promise<Store> {
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000, autoIndex: true });
  await connection.asPromise();
  const store = createStore(connection);
  await Promise.all([store.contacts, store.consents, store.consentEvents, store.journeys, store.outbox, store.inbound].map((m) => m.init()));
  await createDeliveryReportIndexes(store);
  return store;
}
