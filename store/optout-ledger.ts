import { contactActor, type LedgerActor } from '../domain/access';
import type { Business } from '../domain/business';
import type { OptOutInput } from '../workflows/optout/contract';
import type { Store } from './models';
import { inboundProof } from './payloads';
import { appendConsentEvents, consentEvent, setCurrentConsents, type CurrentConsentChange } from './queries';

/**
 * An opt-out's ledger events, one per category with its proof, and the current consents they make.
 * Written by the acknowledgement itself (services/optouts.ts), so a STOP is in the ledger the moment
 * it is answered, and again by the opt-out workflow's activity, which then finds them written: event
 * ids derive from the opt-out id, so neither writes anything twice, whichever comes first.
 */

export type RecordedOptOut = { categories: string[]; allCategories: boolean };

/** The categories an opt-out covers: those asked for that the business has, or all of them. */
export function optOutScope(business: Business, requested: string[] | undefined): RecordedOptOut {
  const all = business.categories.map((c) => c.id);
  const categories = requested?.length ? requested.filter((c) => all.includes(c)) : all;
  return { categories, allCategories: categories.length === all.length };
}

/** The changes whose consent does not already rest on their event. */
async function notYetSet(store: Store, changes: CurrentConsentChange[]): Promise<CurrentConsentChange[]> {
  if (changes.length === 0) return changes;
  const current = await store.consents.find({ _id: { $in: changes.map((c) => `${c.contactId}:${c.category}`) } }, { lastEventId: 1 }).lean();
  const resting = new Set(current.map((c) => c.lastEventId));
  return changes.filter((c) => !resting.has(c.eventId));
}

/** Who opted out when no key asked: the carrier for its refusals, a key of before keys had ids for API opt-outs, else the contact. */
function optOutActorOf(channel: OptOutInput['channel']): LedgerActor {
  if (channel === 'provider') return { kind: 'carrier' };
  if (channel === 'api' || channel === 'agent') return { kind: 'api_key' };
  return contactActor(channel);
}

export const optOutEventIdOf = (optOutId: string, category: string) => `${optOutId}:${category}:opted_out`;

/** Whether an earlier delivery of this opt-out wrote its events: its first category's event, read by `_id` (events are inserted in order). */
export async function optOutRecordedBefore(store: Store, business: Business, input: Pick<OptOutInput, 'categories'> & { optOutId: string }): Promise<boolean> {
  const [first] = optOutScope(business, input.categories).categories;
  if (first === undefined) return false;
  return (await store.consentEvents.exists({ _id: optOutEventIdOf(input.optOutId, first) })) !== null;
}

/**
 * Writes the events (all categories in one insert), then moves the current consents forward. A
 * repeated delivery of the same STOP carries a later receipt time than the first: the consents follow
 * the events as first written, so a repeat can never undo a START that came after the first.
 * The block is not set here: setting it again could undo such a START too. `lookFirst` reads the
 * events before writing (one round trip), for a caller that usually comes after they were written.
 */
export async function recordOptOutEvents(store: Store, business: Business, input: OptOutInput & { optOutId: string }, { lookFirst = false } = {}): Promise<RecordedOptOut> {
  const scope = optOutScope(business, input.categories);
  const at = new Date(input.receivedAt);
  if (input.channel === 'whatsapp') {
    await store.contacts.updateOne({ _id: input.contactId }, { $max: { lastWhatsappInboundAt: at } });
  }
  const eventIdOf = (category: string) => optOutEventIdOf(input.optOutId, category);
  // The proof's fields an export reads: in every event, and kept on the consents they set.
  const exportFields = {
    method: input.source.kind,
    channel: input.channel,
    matchedKeyword: input.keyword?.matched,
    keywordLanguage: input.keyword?.language,
    reference: input.source.reference,
    optOutId: input.optOutId,
  };
  // When each category's event was first written: the consents follow that, not this delivery.
  const firstAt = new Map<string, Date>();
  const readFirstAt = async (categories: string[]) => {
    if (categories.length === 0) return;
    // One round trip for all categories: `_id: { $in }` is an index lookup on MongoDB (and on the embedded FerretDB, patched).
    const found = await store.consentEvents.find({ _id: { $in: categories.map(eventIdOf) } }, { category: 1, at: 1, seq: 1 }).lean();
    // Written but never linked (by the previous version, cut short): appended again below, which links it.
    for (const e of found) if (typeof e.seq === 'number') firstAt.set(e.category, e.at);
  };
  if (lookFirst) await readFirstAt(scope.categories);
  const missing = scope.categories.filter((c) => !firstAt.has(c));
  const changesNow = () =>
    scope.categories.map((category): CurrentConsentChange => ({
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      category,
      status: 'opted_out',
      since: new Date(firstAt.get(category) ?? at),
      eventId: eventIdOf(category),
      proof: exportFields,
    }));
  if (missing.length > 0) {
    const [inbound, recordedAt] = [await inboundProof(store, input), new Date().toISOString()];
    let consentsSet = false;
    const written = await appendConsentEvents(
      store,
      missing.map((category) =>
        consentEvent(input, eventIdOf(category), category, 'opted_out', at, {
          ...exportFields,
          reason: input.reason,
          text: input.text,
          businessName: business.name,
          allCategories: scope.allCategories,
          receivedAt: input.receivedAt,
          recordedAt,
          inbound,
          inboundRef: input.payloadRef,
        }, input.actor ?? optOutActorOf(input.channel)),
      ),
      {
        // This call wrote every event it meant to (the usual case): the consents follow from that
        // alone, and go beside the head hint's write, a round trip fewer before the answer.
        beside: async (w) => {
          if (!missing.every((c) => w.has(eventIdOf(c)))) return;
          for (const c of missing) firstAt.set(c, at);
          await setCurrentConsents(store, changesNow());
          consentsSet = true;
        },
      },
    );
    if (consentsSet) return scope;
    for (const c of missing) if (written.has(eventIdOf(c))) firstAt.set(c, at);
    await readFirstAt(missing.filter((c) => !firstAt.has(c)));
  }
  let changes = changesNow();
  // A caller that usually comes second reads where the consents stand instead of writing them again
  // (on a single-writer store a read waits for no one); only those an earlier writer left behind are written.
  if (lookFirst && missing.length === 0) changes = await notYetSet(store, changes);
  await setCurrentConsents(store, changes);
  return scope;
}
