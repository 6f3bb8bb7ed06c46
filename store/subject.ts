import { campaignStore } from './campaigns';
import { linksOf } from './ledger-chain';
import type { Store } from './models';

/**
 * Where one person's data lives, collection by collection: the subject-access export reads it all and
 * erasure (store/erasure.ts) scrubs the same places. A collection added to the store belongs here.
 */

export interface SubjectKey {
  businessId: string;
  contactId: string;
  phone: string;
}

type Doc = Record<string, unknown> & { _id: string };

const raw = (store: Store, name: string) => store.connection.collection<Doc>(name);

/** The ids of the contact's opt-out workflows, from the ledger (each opt-out records its id) and the ones still pending. */
export async function optOutIdsOf(store: Store, s: SubjectKey): Promise<string[]> {
  const events = await store.consentEvents.find({ businessId: s.businessId, contactId: s.contactId, type: 'opted_out' }).lean();
  const pending = await raw(store, 'optout_pending').find({ 'input.businessId': s.businessId, 'input.contactId': s.contactId }).toArray();
  const ids = new Set<string>(pending.map((p) => p._id));
  for (const e of events) {
    const id = (e.proof as { optOutId?: unknown } | undefined)?.optOutId;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

/** Campaign row chunks holding a row of this contact (its phone as given, or its contact id). */
export function campaignChunksOf(store: Store, s: SubjectKey) {
  return campaignStore(store).chunks.find({ $or: [{ 'rows.contactId': s.contactId }, { 'rows.phone': s.phone }] }).lean();
}

/** Everything held about one person, as one document (GET /v1/contacts/export). */
export async function collectSubjectData(store: Store, s: SubjectKey) {
  const [contact, consents, events, journeys, outbox, inbound, block, optOutIds] = await Promise.all([
    store.contacts.findById(s.contactId).lean(),
    store.consents.find({ businessId: s.businessId, contactId: s.contactId }).sort({ category: 1 }).lean(),
    store.consentEvents.find({ businessId: s.businessId, contactId: s.contactId }).sort({ seq: 1, at: 1 }).lean(),
    store.journeys.find({ businessId: s.businessId, contactId: s.contactId }).sort({ startedAt: 1 }).lean(),
    store.outbox.find({ businessId: s.businessId, contactId: s.contactId }).sort({ createdAt: 1 }).lean(),
    store.inbound.find({ businessId: s.businessId, contactId: s.contactId }).sort({ receivedAt: 1 }).lean(),
    raw(store, 'contact_blocks').findOne({ _id: s.contactId }),
    optOutIdsOf(store, s),
  ]);
  const providerIds = outbox.map((o) => o.providerId).filter((id): id is string => typeof id === 'string');
  const inboundRefs = inbound.flatMap((m) => [`inbound.${m._id}`, ...(typeof m.payloadRef === 'string' ? [m.payloadRef] : [])]);
  const [deliveryReports, payloads, pendingOptOuts, pendingEvents, links, chunks, requests] = await Promise.all([
    providerIds.length ? raw(store, 'delivery_reports').find({ providerId: { $in: providerIds } }).toArray() : [],
    raw(store, 'payloads').find({ _id: { $in: [...optOutIds, ...inboundRefs] } }).toArray(),
    raw(store, 'optout_pending').find({ 'input.businessId': s.businessId, 'input.contactId': s.contactId }).toArray(),
    raw(store, 'events_pending').find({ 'event.input.contactId': s.contactId }).toArray(),
    linksOf(store).find({ contactId: s.contactId }).sort({ seq: 1 }).toArray(),
    campaignChunksOf(store, s),
    raw(store, 'request_ids').find({ 'request.phone': s.phone }).toArray(),
  ]);
  // Events linked by this version carry their link; the previous version's are in `ledger_links`.
  const ownLinks = events
    .filter((e) => typeof e.prevEventId === 'string' && typeof e.seq === 'number')
    .map((e) => ({ _id: e.linkId, businessId: e.businessId, contactId: e.contactId, seq: e.seq, eventId: e._id, prevEventId: e.prevEventId, prevHash: e.prevHash, hash: e.hash, at: e.recordedAt }));
  const allLinks = [...links, ...ownLinks].sort((x, y) => (x.seq ?? 0) - (y.seq ?? 0));
  const campaignRows = chunks.flatMap((c) => c.rows.filter((r) => r.contactId === s.contactId || r.phone === s.phone).map((r) => ({ campaignId: c.campaignId, ...r })));
  return {
    contact,
    blocked: block ? { since: block.at } : undefined,
    consents,
    ledger: { events, links: allLinks },
    journeys,
    outbox,
    deliveryReports,
    inbound,
    payloads,
    campaignRows,
    pending: { optOuts: pendingOptOuts, events: pendingEvents },
    requests,
  };
}
