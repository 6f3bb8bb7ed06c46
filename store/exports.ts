import type { ExportStatus } from '../domain/consent-export';
import type { ConsentDoc, Store } from './models';

/**
 * The read behind consent exports: one cursor over the business's current consents, read a batch at
 * a time as the caller asks for more (the driver fetches the next batch only when the last is used
 * up), so neither 100,000 consents nor the HTTP response's backlog pile up in memory. Each batch is
 * joined to the proof of the ledger events that set its consents by `_id` (no $lookup on FerretDB).
 */

export const EXPORT_BATCH = 500;

export interface ConsentExportFilter {
  businessId: string;
  status: ExportStatus;
  category?: string;
  since?: Date;
  until?: Date;
}

export type ExportedConsent = Pick<ConsentDoc, 'contactId' | 'phone' | 'category' | 'since' | 'lastEventId' | 'journeyId' | 'confirmationMessageId'> & { status: ExportStatus };

const PROOF_FIELDS = ['method', 'channel', 'source', 'reference', 'matchedKeyword', 'keywordLanguage', 'journeyId', 'optOutId'];

/** Batches of consents matching the filter, in `_id` order (contact, then category), each with its ledger event's proof. */
export async function* consentExportBatches(store: Store, f: ConsentExportFilter, batchSize = EXPORT_BATCH): AsyncGenerator<{ consent: ExportedConsent; proof?: Record<string, unknown> }[]> {
  const query: Record<string, unknown> = { businessId: f.businessId, status: f.status };
  if (f.category) query.category = f.category;
  if (f.since || f.until) query.since = { ...(f.since ? { $gte: f.since } : {}), ...(f.until ? { $lt: f.until } : {}) };
  const cursor = store.consents
    .find(query, { _id: 1, contactId: 1, phone: 1, category: 1, status: 1, since: 1, lastEventId: 1, journeyId: 1, confirmationMessageId: 1 })
    .sort({ _id: 1 })
    .lean()
    .batchSize(batchSize)
    .cursor();
  let batch: ExportedConsent[] = [];
  const withProof = async (consents: ExportedConsent[]) => {
    const events = await store.consentEvents
      .find({ _id: { $in: consents.map((c) => c.lastEventId) } }, { _id: 1, ...Object.fromEntries(PROOF_FIELDS.map((k) => [`proof.${k}`, 1])) })
      .lean<{ _id: string; proof?: Record<string, unknown> }[]>();
    const proofOf = new Map(events.map((e) => [e._id, e.proof]));
    return consents.map((consent) => ({ consent, proof: proofOf.get(consent.lastEventId) }));
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
