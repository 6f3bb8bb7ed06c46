import { EXPORT_PROOF_FIELDS, type ExportStatus } from '../domain/consent-export';
import type { ConsentDoc, Store } from './models';

/**
 * The read behind consent exports: one cursor over the business's current consents, read a batch at
 * a time as the caller asks for more (the driver fetches the next batch only when the last is used
 * up), so neither 100,000 consents nor the HTTP response's backlog pile up in memory. Each consent
 * carries the export fields of the proof that set it; one set before that is joined to its ledger
 * event by an `_id` lookup (no $lookup on FerretDB).
 */

export const EXPORT_BATCH = 500;
const LOOKUPS_AT_ONCE = 25;

export interface ConsentExportFilter {
  businessId: string;
  status: ExportStatus;
  category?: string;
  since?: Date;
  until?: Date;
}

export type ExportedConsent = Pick<ConsentDoc, 'contactId' | 'phone' | 'category' | 'since' | 'lastEventId' | 'journeyId' | 'confirmationMessageId'> & {
  status: ExportStatus;
  proofSummary?: Record<string, unknown> | null;
};


/** Batches of consents matching the filter, in `_id` order (contact, then category), each with its ledger event's proof. */
export async function* consentExportBatches(store: Store, f: ConsentExportFilter, batchSize = EXPORT_BATCH): AsyncGenerator<{ consent: ExportedConsent; proof?: Record<string, unknown> }[]> {
  const query: Record<string, unknown> = { businessId: f.businessId, status: f.status };
  if (f.category) query.category = f.category;
  if (f.since || f.until) query.since = { ...(f.since ? { $gte: f.since } : {}), ...(f.until ? { $lt: f.until } : {}) };
  const cursor = store.consents
    .find(query, { _id: 1, contactId: 1, phone: 1, category: 1, status: 1, since: 1, lastEventId: 1, journeyId: 1, confirmationMessageId: 1, proofSummary: 1 })
    .sort({ _id: 1 })
    .lean()
    .batchSize(batchSize)
    .cursor();
  let batch: ExportedConsent[] = [];
  // One lookup per event by `_id`, several at once: an `_id` equality is served from the index by every
  // store this runs on, a stock FerretDB 1.24 included, which scans the collection for `_id: { $in }`.
  const projection = Object.fromEntries(EXPORT_PROOF_FIELDS.map((k) => [`proof.${k}`, 1]));
  // The driver's collection: these reads need no casting, and mongoose's per-query work showed in the API's CPU.
  const events = store.consentEvents.collection;
  const proofOf = async (eventId: string) => ((await events.findOne({ _id: eventId as never }, { projection })) as { proof?: Record<string, unknown> } | null)?.proof;
  // Consents written since they keep their proof's export fields need no lookup; older ones are looked up.
  const withProof = async (consents: ExportedConsent[]) => {
    const proofs = consents.map((c) => c.proofSummary ?? undefined);
    const missing = consents.flatMap((c, i) => (c.proofSummary ? [] : [i]));
    for (let k = 0; k < missing.length; k += LOOKUPS_AT_ONCE) {
      const slice = missing.slice(k, k + LOOKUPS_AT_ONCE);
      (await Promise.all(slice.map((i) => proofOf(consents[i].lastEventId)))).forEach((p, j) => (proofs[slice[j]] = p));
    }
    return consents.map(({ proofSummary: _kept, ...consent }, i) => ({ consent, proof: proofs[i] }));
  };
  try {
    for await (const doc of cursor) {
      batch.push(doc as ExportedConsent);
      if (batch.length >= batchSize) {
        yield await withProof(batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield await withProof(batch);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
