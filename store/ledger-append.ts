import { randomBytes } from 'node:crypto';
import { headsOf, linkAfter, linkIdOf, personalDigestOf, sealPersonalPart, type ChainHead } from './ledger-chain';
import { readHead, remember, type HeadState } from './ledger-heads';
import { isDuplicateKey } from './errors';
import type { ConsentEventDoc, Store } from './models';

/**
 * Appends events to their contacts' chains in about two round trips: the head (by `_id`, or from this
 * process's memory of it), then one insert of the events with their links, then the head hint. The
 * unique index on `linkId` is the arbiter between processes appending for one contact at once: the
 * loser's insert is refused, it reads the new head and tries the next position. An event's `_id`
 * (derived from its origin) makes a retried append find its event instead of linking it twice.
 *
 * Inserts are ordered: a contact's later events are never stored past one that was refused, so a
 * refusal can never leave a gap in a chain.
 */

export type NewConsentEvent = ConsentEventDoc & { _id: string };
type Prepared = Record<string, unknown> & { _id: string; contactId: string };

const MAX_ROUNDS = 100;

/**
 * How often, and how far apart, the loser of a position reads the head hint before it looks the
 * position up among the events: the taker moves the hint a round trip after its insert, and the
 * lookup by `linkId` is a scan of the whole ledger on FerretDB 1.24 (an index on MongoDB).
 */
const HINT_READS = 4;
const HINT_READ_GAP_MS = 25;

/** The head past `head`, whose next position another process took. */
async function advanceHead(store: Store, contactId: string, head: ChainHead): Promise<ChainHead> {
  for (let read = 0; read < HINT_READS; read++) {
    if (read > 0) await new Promise((resolve) => setTimeout(resolve, HINT_READ_GAP_MS));
    const doc = await headsOf(store).findOne({ _id: contactId });
    if (doc && typeof doc.hash === 'string' && typeof doc.eventId === 'string' && doc.seq > head.seq) return { seq: doc.seq, hash: doc.hash, eventId: doc.eventId };
  }
  // Its taker has not moved the hint yet (or stopped before it did): read the event at that position.
  const next = await store.consentEvents.findOne({ linkId: linkIdOf(contactId, head.seq + 1) }).lean();
  if (next && typeof next.seq === 'number' && typeof next.hash === 'string') return { seq: next.seq, hash: next.hash, eventId: next._id as string };
  return head;
}

/** The event as the store will hold it (mongoose's casting applied), so its hash is over what is stored. */
function prepare(store: Store, event: NewConsentEvent, recordedAt: Date): Prepared {
  return new store.consentEvents({ ...sealPersonalPart(event), recordedAt }).toObject() as unknown as Prepared;
}

function firstRefused(err: unknown): number | undefined {
  const writeErrors = (err as { writeErrors?: { index?: number; code?: number; err?: { code?: number } }[] }).writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return (writeErrors[0].code ?? writeErrors[0].err?.code) === 11000 ? writeErrors[0].index : undefined;
  return isDuplicateKey(err) ? 0 : undefined;
}

/** Inserts in order; answers how many were stored before the first refusal. */
async function insertInOrder(store: Store, docs: Prepared[]): Promise<number> {
  try {
    if (docs.length === 1) await store.consentEvents.collection.insertOne(docs[0] as never);
    else await store.consentEvents.collection.insertMany(docs as never[], { ordered: true });
    return docs.length;
  } catch (err) {
    const refused = firstRefused(err);
    if (refused === undefined) throw err;
    return refused;
  }
}

/**
 * Links an event already in the store without a link: written before the chain existed, or by the
 * previous version, which wrote the event before linking it. The position is taken by an update; the
 * unique index refuses one another process took meanwhile.
 */
async function linkStoredEvent(store: Store, eventId: string, head: ChainHead): Promise<ChainHead> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const event = (await store.consentEvents.findById(eventId).lean()) as (Prepared & { seq?: number; personalDigest?: string }) | null;
    if (!event || typeof event.seq === 'number') return head;
    if (typeof event.personalDigest !== 'string') {
      // Seal its personal part first, so the link's hash can be checked later.
      const personalSalt = randomBytes(16).toString('hex');
      await store.consentEvents.updateOne({ _id: eventId, personalDigest: { $exists: false } }, { $set: { personalSalt, personalDigest: personalDigestOf(event, personalSalt) } }, { strict: false });
      continue;
    }
    const link = linkAfter(head, event);
    try {
      const r = await store.consentEvents.collection.updateOne({ _id: eventId, seq: { $exists: false } } as never, { $set: link });
      return r.matchedCount === 1 ? { seq: link.seq, hash: link.hash, eventId } : head;
    } catch (err) {
      // FerretDB refuses an update against a unique index with an error code of its own, so look at the position instead.
      if (!(await store.consentEvents.exists({ linkId: link.linkId }))) throw err;
      head = await advanceHead(store, event.contactId, head);
    }
  }
  throw new Error(`could not link ledger event ${eventId}: its contact's chain kept moving`);
}

/** Moves each moved contact's head hint forward (never back), then remembers it; `write: false` only remembers it. */
async function writeHeads(store: Store, states: Map<string, HeadState>, moved: Set<string>, write = true): Promise<void> {
  if (!write) {
    for (const [contactId, state] of states) remember(store, contactId, state);
    return;
  }
  const update = (contactId: string) => {
    const { head } = states.get(contactId)!;
    return { updateOne: { filter: { _id: contactId, seq: { $lt: head.seq } }, update: { $set: { seq: head.seq, hash: head.hash, eventId: head.eventId } } } };
  };
  const ops = [...moved].map((contactId) => {
    const { head, stored } = states.get(contactId)!;
    return stored ? update(contactId) : { insertOne: { document: { _id: contactId, seq: head.seq, hash: head.hash, eventId: head.eventId } } };
  });
  if (ops.length > 0) {
    try {
      await headsOf(store).bulkWrite(ops, { ordered: false });
    } catch (err) {
      if (firstRefused(err) === undefined) throw err;
      // A head document appeared meanwhile: move it forward instead.
      await headsOf(store).bulkWrite([...moved].map(update), { ordered: false });
    }
  }
  for (const [contactId, state] of states) remember(store, contactId, { head: state.head, stored: state.stored || moved.has(contactId) });
}

export interface AppendOptions {
  /**
   * 'with_next': the head hint is left for this process's next append to the same contacts, which the
   * caller makes at once (a confirmed journey's consent, then its confirmation): one write fewer. Until
   * then another process appending for the contact finds a stale hint, which costs it a refused insert
   * and a lookup, never a wrong link.
   */
  headHint?: 'now' | 'with_next';
  /**
   * A write of the caller's that needs only the ids written (the current consents they set), sent
   * beside the head hint's write instead of after it: one round trip fewer before the caller is done.
   */
  beside?: (written: ReadonlySet<string>) => Promise<void>;
}

/**
 * Appends events, each exactly once, a contact's events in the order given; answers the ids this
 * call wrote (the others were already in the ledger, and keep their first content).
 */
export async function appendToChains(store: Store, events: NewConsentEvent[], { headHint = 'now', beside }: AppendOptions = {}): Promise<Set<string>> {
  const written = new Set<string>();
  if (events.length === 0) {
    await beside?.(written);
    return written;
  }
  const recordedAt = new Date();
  let pending = events.map((e) => prepare(store, e, recordedAt));
  const contactIds = [...new Set(pending.map((p) => p.contactId))];
  const states = new Map(await Promise.all(contactIds.map(async (c) => [c, await readHead(store, c)] as const)));
  const moved = new Set<string>();
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new Error(`could not link ${pending.length} ledger event(s): their chains kept moving`);
    const planned = new Map([...states].map(([c, s]) => [c, s.head]));
    const docs = pending.map((p) => {
      const link = linkAfter(planned.get(p.contactId)!, p);
      planned.set(p.contactId, { seq: link.seq, hash: link.hash, eventId: p._id });
      return { ...p, ...link };
    });
    const stored = await insertInOrder(store, docs);
    for (const d of docs.slice(0, stored)) {
      states.get(d.contactId)!.head = { seq: d.seq, hash: d.hash, eventId: d._id };
      moved.add(d.contactId);
      written.add(d._id);
    }
    if (stored === docs.length) break;
    const refused = pending[stored];
    pending = pending.slice(stored);
    const state = states.get(refused.contactId)!;
    const existing = await store.consentEvents.findById(refused._id).lean();
    if (existing) {
      // Already in the ledger (a retry): it keeps its first content, and is linked if it never was.
      pending = pending.slice(1);
      if (typeof existing.seq !== 'number') {
        state.head = await linkStoredEvent(store, refused._id, state.head);
        moved.add(refused.contactId);
      }
    } else {
      state.head = await advanceHead(store, refused.contactId, state.head);
    }
  }
  await Promise.all([writeHeads(store, states, moved, headHint === 'now'), beside?.(written)]);
  return written;
}

/** Links one event written before the chain existed (`ledger seal`). */
export async function linkLegacyEvent(store: Store, event: { _id: string; contactId: string }): Promise<void> {
  const state = await readHead(store, event.contactId);
  state.head = await linkStoredEvent(store, event._id, state.head);
  await writeHeads(store, new Map([[event.contactId, state]]), new Set([event.contactId]));
}
