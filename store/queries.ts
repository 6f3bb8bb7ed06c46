import { SYSTEM_ACTOR, type LedgerActor } from '../domain/access';
import { exportProofOf } from '../domain/consent-export';
import { withStorableKeys } from '../domain/payload';
import { publishLedgerAppended } from '../lib/ledger-events';
import { appendToChains, type AppendOptions } from './ledger-append';
import { isDuplicateKey } from './errors';
import type { ConsentEventDoc, ContactDoc, Store } from './models';
import { groupCommit, perStore } from './group-commit';

export interface ContactFields {
  businessId: string;
  contactId: string;
  phone: string;
  email?: string;
  locale?: string;
  timezone?: string;
  name?: string;
}

type ContactWrite = { journeyBegins?: boolean; journeyId?: string; whatsappInboundAt?: Date };

function contactUpdate(c: ContactFields, opts: ContactWrite) {
  const set: Record<string, string | Date> = {};
  for (const k of ['email', 'locale', 'timezone', 'name'] as const) if (c[k]) set[k] = c[k] as string;
  if (opts.journeyBegins) set.lastRequestAt = new Date();
  if (opts.journeyId) set.currentJourneyId = opts.journeyId;
  return {
    $set: set,
    $setOnInsert: { businessId: c.businessId, phone: c.phone, messaging: 'allowed', journeysCounted: true },
    // A retried begin counts twice: the count only ever errs towards looking for other journeys' requests.
    ...(opts.journeyBegins ? { $inc: { journeysBegun: 1 } } : {}),
    ...(opts.whatsappInboundAt ? { $max: { lastWhatsappInboundAt: opts.whatsappInboundAt } } : {}),
  };
}

/** Runs a contact upsert, once more when a concurrent first write of the same contact won the race on _id. */
async function racingOnId<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}

/**
 * Creates the contact or refreshes what we know.
 * A journey beginning (`journeyBegins`) also stamps the request time and counts itself, and a WhatsApp
 * message from the contact (`whatsappInboundAt`) opens the service window, in the same write.
 */
export async function upsertContact(store: Store, c: ContactFields, opts: ContactWrite = {}): Promise<void> {
  const update = contactUpdate(c, opts);
  await racingOnId(() => store.contacts.updateOne({ _id: c.contactId }, update, { upsert: true }));
}

/** upsertContact that answers the contact as the write left it, for a caller that would read it next. */
export async function upsertAndReadContact(store: Store, c: ContactFields, opts: ContactWrite = {}): Promise<ContactDoc | null> {
  const update = contactUpdate(c, opts);
  return racingOnId(() => store.contacts.findOneAndUpdate({ _id: c.contactId }, update, { upsert: true, returnDocument: 'after' }).lean<ContactDoc>());
}

/** No journey but `journeysBegun`'s one can have sent this contact a request: its every journey is counted and there is one. */
export function onlyOneJourneyBegun(contact: { journeysCounted?: boolean | null; journeysBegun?: number | null } | null | undefined): boolean {
  return contact?.journeysCounted === true && contact.journeysBegun === 1;
}

/** Who a ledger event is about. */
export type LedgerContact = Pick<ConsentEventDoc, 'businessId' | 'contactId' | 'phone'>;

/**
 * One ledger event about a contact and a category; its _id (derived from what caused it) makes a
 * retried write change nothing. Proof carries what contacts and providers sent, so its field names
 * are made storable: a form field named "$where" must not keep an event out of the ledger.
 */
export function consentEvent(contact: LedgerContact, _id: string, category: string, type: ConsentEventDoc['type'], at: Date, proof: Record<string, unknown>, actor: LedgerActor): ConsentEventDoc & { _id: string } {
  return { _id, businessId: contact.businessId, contactId: contact.contactId, phone: contact.phone, category, type, at, proof: withStorableKeys(proof), actor };
}

/**
 * Appends a ledger event exactly once, linked into its contact's chain: a retried activity hits the
 * same _id, keeps the first write's content, and only links it if that never happened.
 */
export async function appendConsentEvent(store: Store, event: ConsentEventDoc & { _id: string }): Promise<'written' | 'already'> {
  const written = await appendToChains(store, [event]);
  if (written.size > 0) publishLedgerAppended({ database: store.connection.name, businessIds: [event.businessId] });
  return written.size > 0 ? 'written' : 'already';
}

/**
 * Appends several ledger events in one insert (instead of one per event), each contact's in the order
 * given; events already there (a retried activity) are left as they are. Answers the ids it wrote.
 */
export async function appendConsentEvents(store: Store, events: (ConsentEventDoc & { _id: string })[], opts?: AppendOptions): Promise<Set<string>> {
  const written = await appendToChains(store, events, opts);
  if (events.length > 0) publishLedgerAppended({ database: store.connection.name, businessIds: [...new Set(events.map((e) => e.businessId))] });
  return written;
}

/** True when every write an insertMany / bulkWrite refused was a duplicate key (a retry finding its own earlier write). */
function onlyDuplicateKeys(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return writeErrors.every((e) => (e.code ?? e.err?.code) === 11000);
  return isDuplicateKey(err);
}

export interface CurrentConsentChange {
  businessId: string;
  contactId: string;
  phone: string;
  category: string;
  status: 'opted_in' | 'opted_out';
  since: Date;
  eventId: string;
  journeyId?: string;
  /** The proof of the event `eventId`: its export fields are kept on the consent. */
  proof?: Record<string, unknown>;
}

/**
 * setCurrentConsent for several categories in one round trip. Each is an upsert that only matches an
 * older state; a newer state makes the insert hit the duplicate key and changes nothing. A duplicate
 * from a concurrent first write is retried as a plain update, which again only moves forward in time.
 */
export async function setCurrentConsents(store: Store, changes: CurrentConsentChange[]): Promise<void> {
  if (changes.length === 0) return;
  const write = (c: CurrentConsentChange) => ({
    filter: { _id: `${c.contactId}:${c.category}`, since: { $lte: c.since } },
    update: { $set: { businessId: c.businessId, contactId: c.contactId, phone: c.phone, category: c.category, status: c.status, since: c.since, lastEventId: c.eventId, journeyId: c.journeyId, ...(c.proof ? { proofSummary: exportProofOf(c.proof) } : {}) } },
  });
  try {
    await store.consents.bulkWrite(changes.map((c) => ({ updateOne: { ...write(c), upsert: true } })), { ordered: false });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
    // One at a time: FerretDB 1.24 stops an unordered batch at its first refusal, so the changes
    // after it (a consent still missing among them) were never tried.
    for (const c of changes) {
      const { filter, update } = write(c);
      try {
        await store.consents.updateOne(filter, update, { upsert: true });
      } catch (one) {
        if (!onlyDuplicateKeys(one)) throw one;
        await store.consents.updateOne(filter, update);
      }
    }
  }
}

export async function setCurrentConsent(store: Store, c: CurrentConsentChange): Promise<void> {
  await setCurrentConsents(store, [c]);
}

export async function consentOverview(store: Store, businessId: string, contactId: string) {
  const [contact, consents, events] = await Promise.all([
    store.contacts.findById(contactId).lean(),
    store.consents.find({ businessId, contactId }).sort({ category: 1 }).lean(),
    store.consentEvents.find({ businessId, contactId }).sort({ at: 1 }).lean(),
  ]);
  return { contact, consents, events };
}

export interface ConfirmationSent {
  businessId: string;
  contactId: string;
  phone: string;
  categories: string[];
  providerId?: string;
  outcome: string;
  shown?: string;
  at: string;
}

/**
 * The WhatsApp confirmation joins the proof: one ledger event per category, pointing at the opt-in it
 * confirms (`<originId>:<category>:opted_in`), and its message id on the current consent while that
 * opt-in is still the one in effect. `origin` names where the consent came from, e.g. `{ journeyId }`.
 */
export async function recordConfirmationSent(store: Store, originId: string, origin: Record<string, string>, c: ConfirmationSent): Promise<void> {
  const optedInEventIdOf = (category: string) => `${originId}:${category}:opted_in`;
  await appendConsentEvents(
    store,
    c.categories.map((category) =>
      consentEvent(c, `${originId}:${category}:confirmation_sent`, category, 'confirmation_sent', new Date(c.at), {
        channel: 'whatsapp',
        providerId: c.providerId,
        outcome: c.outcome,
        shown: c.shown,
        ...origin,
        optedInEventId: optedInEventIdOf(category),
      }, SYSTEM_ACTOR),
    ),
  );
  if (c.providerId && c.categories.length > 0) {
    await confirmationMarks(store).add(c.categories.map((category) => ({ _id: `${c.contactId}:${category}`, lastEventId: optedInEventIdOf(category), providerId: c.providerId! })));
  }
}

type ConfirmationMark = { _id: string; lastEventId: string; providerId: string };
const markAll = (store: Store, marks: ConfirmationMark[]) =>
  store.consents.bulkWrite(
    marks.map((m) => ({ updateOne: { filter: { _id: m._id, lastEventId: m.lastEventId }, update: { $set: { confirmationMessageId: m.providerId } } } })),
    { ordered: false },
  );

/** Confirmations marked while one is being marked go in one bulk write (each a `$set` that only matches its own opt-in). */
const confirmationMarks = perStore((store: Store) =>
  groupCommit<ConfirmationMark[]>(
    (lists) => markAll(store, lists.flat()),
    (marks) => markAll(store, marks),
  ),
);
