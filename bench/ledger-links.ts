import { completeLink, contentHashOf, linkHashOf, linkIdOf, linksOf, headsOf, readLinkedHead, sealPersonalPart, type LinkDoc } from '../store/ledger-chain';
import { isDuplicateKey } from '../store/errors';
import type { ConsentEventDoc, Store } from '../store/models';

/**
 * The previous version's append, kept only so `bench:ledger` can measure the new one against it in the
 * same run: the event is inserted, then its position is claimed by a link document, then the link is
 * copied onto the event and the head hint moved (about eight round trips per event).
 */
export async function appendByLinkDocuments(store: Store, event: ConsentEventDoc & { _id: string }): Promise<void> {
  try {
    await store.consentEvents.create({ ...sealPersonalPart(event), recordedAt: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  for (let round = 0; round < 100; round++) {
    const hint = await headsOf(store).findOne({ _id: event.contactId });
    const head = await readLinkedHead(store, event.contactId, hint?.seq ?? 0);
    const stored = (await store.consentEvents.findById(event._id).lean()) as (Record<string, unknown> & { seq?: number }) | null;
    if (!stored) throw new Error(`ledger event ${event._id} is not in the store`);
    if (typeof stored.seq === 'number') return;
    const seq = head.seq + 1;
    const link: LinkDoc = { _id: linkIdOf(event.contactId, seq), businessId: String(event.businessId), contactId: event.contactId, seq, eventId: event._id, prevHash: head.hash, hash: linkHashOf(seq, head.hash, contentHashOf(stored)), at: new Date() };
    try {
      await linksOf(store).insertOne(link);
    } catch (err) {
      if (isDuplicateKey(err)) continue;
      throw err;
    }
    await completeLink(store, link);
    await headsOf(store).updateOne({ _id: event.contactId }, { $max: { seq } }, { upsert: true });
    return;
  }
  throw new Error(`could not link ledger event ${event._id}`);
}
