import { createHash } from 'node:crypto';
import { isDuplicateKey } from './errors';
import { deletesById, groupCommit, perStore, readsById } from './group-commit';
import type { ContactDoc, Store } from './models';
import { pollUntil } from './poll';
import { upsertContact } from './queries';

/**
 * Whether a contact may be messaged. An opt-out of everything inserts a block document first, then sets
 * the contact's `messaging` flag (its conditional update decides whether a later START wins; when one
 * does, the opt-out takes its block document back). So the block document is there whenever the flag
 * is, and the flag alone is a shortcut to "blocked" (`isBlocked`, `readBlocked`).
 * Who reads what:
 * - the fence before every provider call (`enterSendFence`) reads the block document alone;
 * - the resend of an ambiguous send, the API and the pages read the flag, then the block document;
 * - the send gate before the claim reads only the contact's flag, and only under the request policy:
 *   it is an early refusal, and the fence still stands behind it;
 * - `blockMessaging` reads both at once, to learn whether this opt-out is the first.
 */

/**
 * How long a block waits by default for sends that passed the gate to come back from the provider
 * (below the store steps' 30 s start-to-close), and after how long an in-flight mark is taken for a dead attempt's.
 * The age is generous: on an overloaded worker a provider call can outlive its activity's 30 s, and
 * a mark ignored too early would let the acknowledgement come before that message.
 */
const IN_FLIGHT_WAIT_MS = 25_000;
const IN_FLIGHT_MAX_AGE_MS = 120_000;
/** The first re-read of a contact's marks after this long; then twice as long each time, up to FENCE_POLL_MAX_MS. */
const FENCE_POLL_FIRST_MS = 50;
const FENCE_POLL_MAX_MS = 400;

/**
 * Marks of sends whose provider call is running, one document each, written only by insert and
 * delete. Not fields on the contact: FerretDB 1.24 applies an update by reading the document,
 * changing it and writing it back whole with nothing held in between, so sends updating the contact
 * document while an opt-out blocks it could write the old `messaging` back. The collection stays tiny
 * (a mark lives only while its call runs), so reading it by contact id is cheap even where the store
 * scans.
 */
interface FenceDoc {
  _id: string;
  contactId: string;
  at: Date;
}
const fenceOf = (store: Store) => store.connection.collection<FenceDoc>('send_fence');

/** A mark written again (a retried attempt) takes the new time. */
async function enterOnce(store: Store, mark: FenceDoc): Promise<void> {
  try {
    await fenceOf(store).insertOne(mark);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await fenceOf(store).updateOne({ _id: mark._id }, { $set: { at: mark.at } });
  }
}

/** Marks written while one is being written go in one insert (a mark written again among them: one by one). */
const fenceEntries = perStore((store: Store) =>
  groupCommit<FenceDoc>(
    (marks) => fenceOf(store).insertMany(marks, { ordered: false }),
    (mark) => enterOnce(store, mark),
  ),
);

/**
 * The block also lives in a document of its own. FerretDB 1.24 applies an update by reading and
 * rewriting the whole document, so a concurrent write to the contact (a journey starting, an inbound
 * message) can put `messaging` back to its old value; an inserted document cannot be undone that way.
 */
interface BlockDoc {
  _id: string;
  at: Date;
}
const blocksOf = (store: Store) => store.connection.collection<BlockDoc>('contact_blocks');

/** True when the contact opted out of everything; pass the contact document when it is already at hand. */
export async function isBlocked(store: Store, contactId: string, contact?: { messaging?: string | null } | null): Promise<boolean> {
  if (contact?.messaging === 'opted_out') return true;
  return hasBlockDocument(store, contactId);
}

/**
 * Whether the contact's block document exists: enough to know it is blocked, since an opt-out inserts
 * it before it sets the contact's flag; for a caller that needs nothing else from the contact.
 */
export async function hasBlockDocument(store: Store, contactId: string): Promise<boolean> {
  return (await blockReads(store).add(contactId)) !== null;
}

/** Reads by callers that come while one is in flight go as one. */
const blockReads = perStore((store: Store) =>
  readsById<{ _id: string }>(
    (id) => blocksOf(store).findOne({ _id: id }, { projection: { _id: 1 } }),
    (ids) => blocksOf(store).find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray(),
  ),
);

/** isBlocked for a caller that has not read the contact: its document first, the block document only when its flag is not set. */
export async function readBlocked(store: Store, contactId: string): Promise<boolean> {
  return isBlocked(store, contactId, await store.contacts.findById(contactId).lean());
}

/** The contact and whether its block document exists, read side by side by `_id`. */
export interface BlockState {
  contact: ContactDoc | null;
  blockDoc: boolean;
}

/** Both records read at once (one round trip): blockMessaging's check, and a caller's that needs the contact too. */
export async function readBlockState(store: Store, contactId: string): Promise<BlockState> {
  const [contact, blockDoc] = await Promise.all([store.contacts.findById(contactId).lean(), blocksOf(store).findOne({ _id: contactId }, { projection: { _id: 1 } })]);
  return { contact, blockDoc: blockDoc !== null };
}

/** The contact and whether it is blocked, both records read at once: one round trip, for a caller that needs the contact anyway. */
export async function readContactAndBlock(store: Store, contactId: string): Promise<{ contact: ContactDoc | null; blocked: boolean }> {
  const { contact, blockDoc } = await readBlockState(store, contactId);
  return { contact, blocked: contact?.messaging === 'opted_out' || blockDoc };
}

/** The blocked contacts among many (a campaign upload), by the same rule as isBlocked. */
export async function blockedAmong(store: Store, contacts: ReadonlyArray<{ _id: string; messaging?: string | null }>, contactIds: readonly string[]): Promise<Set<string>> {
  const blocked = new Set(contacts.filter((c) => c.messaging === 'opted_out').map((c) => c._id));
  const unflagged = contactIds.filter((id) => !blocked.has(id));
  if (unflagged.length === 0) return blocked;
  for (const d of await blocksOf(store).find({ _id: { $in: unflagged } }).toArray()) blocked.add(d._id);
  return blocked;
}

/** Lifts a block no newer than the contact's own act (a later opt-out stands). */
export async function liftBlock(store: Store, contactId: string, notAfter: Date): Promise<void> {
  await blocksOf(store).deleteOne({ _id: contactId, at: { $lte: notAfter } });
}
const fenceId = (idempotencyKey: string) => createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);

/**
 * Registers a send as at the provider, then reads the contact's block document: a send that finds one
 * takes its mark back and must not send (returns false). The block document is the opt-out's first
 * write and comes before it reads the marks, and this mark comes before this read, so at least one of
 * the two sees the other: a read that misses the block document came before the opt-out's first write,
 * which then came after this mark. The contact's flag is written after the block document, so reading
 * it too would find nothing more.
 */
export async function enterSendFence(store: Store, contactId: string, idempotencyKey: string): Promise<boolean> {
  const _id = fenceId(idempotencyKey);
  await fenceEntries(store).add({ _id, contactId, at: new Date() });
  if (!(await hasBlockDocument(store, contactId))) return true;
  await fenceOf(store).deleteOne({ _id });
  return false;
}

/** Marks taken back while one is being taken back go in one delete (the send is over; only an opt-out's wait reads them). */
const fenceReleases = perStore((store: Store) => deletesById(fenceOf(store)));

export async function leaveSendFence(store: Store, _contactId: string, idempotencyKey: string): Promise<void> {
  await fenceReleases(store).add(fenceId(idempotencyKey));
}

/**
 * Blocks the contact for the send gate, then waits (up to waitMs from the call) until no send that registered
 * before the block is still at the provider (see enterSendFence for why every other send refuses).
 * `inFlight` counts the sends still registered when the wait ended (0 unless the provider is slower
 * than waitMs). A block older than the contact's last START (a late retry) changes nothing.
 * `unblockedJustNow`: the caller has just read the contact and its block document and found neither
 * set, so the reads that only spare the writes are skipped. `known`: those reads, made already by a
 * caller that needs the contact for something else too (the journey it closes). waitMs 'none': the
 * caller leaves those sends to the step that must come after them (the opt-out's confirmation waits
 * for them itself), so none are looked for and inFlight is 0.
 */
export async function blockMessaging(
  store: Store,
  c: { businessId: string; contactId: string; phone: string; at: Date },
  waitMs: number | 'none' = IN_FLIGHT_WAIT_MS,
  { unblockedJustNow = false, known }: { unblockedJustNow?: boolean; known?: Promise<BlockState> } = {},
): Promise<{ blocked: boolean; inFlight: number }> {
  // The wait counts from the call, so a slow store before it cannot push the caller past its own deadline.
  const until = waitMs === 'none' ? 0 : Date.now() + waitMs;
  const block = () =>
    store.contacts.updateOne(
      { _id: c.contactId, $or: [{ messagingResumedAt: { $exists: false } }, { messagingResumedAt: { $lt: c.at } }] },
      { $set: { messaging: 'opted_out', optedOutAt: c.at } },
      { strict: false, strictQuery: false },
    );
  // Blocked already (the webhook blocks before answering; the workflow's first step repeats it for
  // durability): two reads instead of two writes, which matters on a single-writer store.
  const state = unblockedJustNow ? undefined : await (known ?? readBlockState(store, c.contactId));
  // Counts from `until`, so starting it before the contact's write changes nothing but the wait.
  const sendsAtProvider = () => (waitMs === 'none' ? Promise.resolve(0) : waitForSendsAtProvider(store, c.contactId, Math.max(0, until - Date.now())));
  let inFlight: Promise<number> | undefined;
  if (!(state?.contact?.messaging === 'opted_out' && state.blockDoc)) {
    // The block document first: the send fence reads it alone (enterSendFence).
    try {
      await blocksOf(store).insertOne({ _id: c.contactId, at: c.at });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // A send that registers after this read finds the block document, so the read need not wait for
    // the contact's flag: sent beside it, a round trip fewer before the answer.
    inFlight = sendsAtProvider();
    inFlight.catch(() => undefined);
    // One write for a known contact. No match means no document yet (someone who never heard from us
    // is blocked too) or a later START; once the document surely exists, a second try tells which.
    let r = await block();
    if (r.matchedCount === 0) {
      await upsertContact(store, { businessId: c.businessId, contactId: c.contactId, phone: c.phone });
      r = await block();
    }
    if (r.matchedCount === 0) {
      // A later START wins: the block document of this opt-out goes (a START lifts any block up to its own time).
      await blocksOf(store).deleteOne({ _id: c.contactId, at: c.at });
      return { blocked: false, inFlight: 0 };
    }
  }

  return { blocked: true, inFlight: await (inFlight ?? sendsAtProvider()) };
}

/**
 * Waits (up to waitMs) until none of the contact's sends is registered at the provider; answers how
 * many still are. A mark older than IN_FLIGHT_MAX_AGE_MS is an attempt that died before taking it back.
 */
export async function waitForSendsAtProvider(store: Store, contactId: string, waitMs: number): Promise<number> {
  const inFlight = async () => {
    const since = Date.now() - IN_FLIGHT_MAX_AGE_MS;
    const marks = await fenceOf(store).find({ contactId }).toArray();
    return marks.filter((m) => new Date(m.at).getTime() > since).length;
  };
  // A send at the provider takes from milliseconds to its client's 15 s timeout: re-read soon, then
  // less often, so a burst of opt-outs does not poll the store (a scan of the marks on FerretDB) 20 times a second each.
  return pollUntil(inFlight, (n) => n === 0, { firstDelayMs: FENCE_POLL_FIRST_MS, maxDelayMs: FENCE_POLL_MAX_MS, waitMs });
}
