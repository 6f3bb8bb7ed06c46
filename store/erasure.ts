import { campaignStore, writeChunkRows, type CampaignRow } from './campaigns';
import { isDuplicateKey } from './errors';
import type { Store } from './models';
import { campaignChunksOf, optOutIdsOf, type SubjectKey } from './subject';

/**
 * Erasure in the store: the person's phone, e-mail, names and message bodies leave every collection
 * store/subject.ts reads. What stays is pseudonymous: ids, times, statuses, the ledger's chain with
 * each event's digest of its personal part (store/ledger-chain.ts), the contact's block, and a keyed
 * hash of the number so it stays suppressed.
 */

interface SuppressionDoc {
  _id: string;
  businessId: string;
  at: Date;
}
const suppressionsOf = (store: Store) => store.connection.collection<SuppressionDoc>('erased_suppressions');
const raw = (store: Store, name: string) => store.connection.collection<{ _id: string }>(name);

/** When the number behind this keyed hash was erased, if it was. */
export async function erasedAt(store: Store, suppressionHash: string): Promise<Date | undefined> {
  return (await suppressionsOf(store).findOne({ _id: suppressionHash }))?.at;
}

async function insertOnce(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Blocks the contact before anything is removed, so no send slips through while erasure runs, and keeps
 * the keyed hash of the number. The block is by contact id, the key every send gate reads; the contact
 * document goes, so the block document is what holds it.
 */
export async function suppressErasedContact(store: Store, s: SubjectKey, suppressionHash: string, at: Date): Promise<void> {
  await insertOnce(() => raw(store, 'contact_blocks').insertOne({ _id: s.contactId, at } as never));
  await insertOnce(() => suppressionsOf(store).insertOne({ _id: suppressionHash, businessId: s.businessId, at }));
}

function scrubRow(row: CampaignRow): CampaignRow {
  const { input: _input, phone: _phone, email: _email, name: _name, ...kept } = row;
  return { ...kept, input: 'erased' };
}

/** What erasure changed, per collection. */
export type ErasureCounts = Record<string, number>;

/**
 * Removes the personal data; every step is idempotent, so an erasure cut short is finished by running it
 * again. `keepProofOf` is the erasure's own ledger event: it carries no personal data, and keeps its proof.
 */
export async function scrubSubjectData(store: Store, s: SubjectKey, keepProofOf: string, at: Date): Promise<ErasureCounts> {
  const mine = { businessId: s.businessId, contactId: s.contactId };
  const [optOutIds, inbound] = await Promise.all([optOutIdsOf(store, s), store.inbound.find(mine).lean()]);
  const payloadRefs = [...optOutIds, ...inbound.flatMap((m) => [`inbound.${m._id}`, ...(typeof m.payloadRef === 'string' ? [m.payloadRef] : [])])];
  const counts: ErasureCounts = {};
  const events = store.consentEvents.collection;
  counts.consent_events = (await events.updateMany({ ...mine, _id: { $ne: keepProofOf } } as never, { $unset: { phone: '', proof: '', personalSalt: '' }, $set: { erasedAt: at } })).modifiedCount;
  await events.updateOne({ _id: keepProofOf } as never, { $unset: { phone: '', personalSalt: '' }, $set: { erasedAt: at } });
  counts.contacts = (await store.contacts.deleteOne({ _id: s.contactId })).deletedCount;
  counts.consents = (await store.consents.deleteMany(mine)).deletedCount;
  // A journey erasure ended never recorded its own end: it says so here.
  await store.journeys.collection.updateMany({ ...mine, status: 'active' }, { $set: { status: 'erased', endedAt: at } });
  counts.journeys = (await store.journeys.collection.updateMany(mine, { $unset: { state: '', source: '', plan: '' }, $set: { erasedAt: at } })).modifiedCount;
  counts.outbox = (await store.outbox.collection.updateMany(mine, { $unset: { to: '', shown: '', reason: '', 'resolution.detail': '' }, $set: { erasedAt: at } })).modifiedCount;
  counts.inbound_messages = (await store.inbound.collection.updateMany(mine, { $unset: { from: '', payload: '', payloadRef: '' }, $set: { erasedAt: at } })).modifiedCount;
  counts.payloads = payloadRefs.length ? (await raw(store, 'payloads').deleteMany({ _id: { $in: payloadRefs } })).deletedCount : 0;
  counts.optout_pending = (await raw(store, 'optout_pending').deleteMany({ 'input.businessId': s.businessId, 'input.contactId': s.contactId } as never)).deletedCount;
  counts.events_pending = (await raw(store, 'events_pending').deleteMany({ 'event.input.contactId': s.contactId } as never)).deletedCount;
  counts.request_ids = (await raw(store, 'request_ids').updateMany({ 'request.phone': s.phone } as never, { $unset: { 'request.phone': '' } })).modifiedCount;
  let rows = 0;
  for (const chunk of await campaignChunksOf(store, s)) {
    const isTheirs = (r: CampaignRow) => r.contactId === s.contactId || r.phone === s.phone;
    rows += chunk.rows.filter(isTheirs).length;
    await writeChunkRows(store, chunk.campaignId, chunk.chunk, chunk.rows.map((r) => (isTheirs(r) ? scrubRow(r) : r)));
  }
  counts.campaign_rows = rows;
  return counts;
}

/** Campaigns holding a row of this person. */
export async function campaignIdsOf(store: Store, s: SubjectKey): Promise<string[]> {
  return [...new Set((await campaignChunksOf(store, s)).map((c) => c.campaignId))];
}

/** Campaigns holding a row of this person that are still starting journeys: their rows are the campaign workflow's to write. */
export async function runningCampaignsOf(store: Store, s: SubjectKey): Promise<string[]> {
  const ids = await campaignIdsOf(store, s);
  if (ids.length === 0) return [];
  const campaigns = await campaignStore(store).campaigns.find({ _id: { $in: ids } }).lean();
  return campaigns.filter((c) => c.status !== 'completed' && c.status !== 'cancelled').map((c) => c._id);
}
