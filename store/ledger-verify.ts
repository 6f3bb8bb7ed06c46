import { linkLegacyEvent } from './ledger-append';
import { contentHashOf, GENESIS_HASH, headsOf, linkHashOf, linkIdOf, linksOf, personalDigestOf, type HeadDoc, type LinkDoc } from './ledger-chain';
import type { Store } from './models';

/**
 * Walks every chain of a business in one pass over its events, in (contact, seq) order, holding one
 * contact's events at a time. An event that carries its own link (`prevEventId`) is checked against
 * the event before it; one linked by the previous version against its link document. The head hint
 * tells a deleted last event.
 */

export type ChainProblem =
  /** The event's content (or its personal part) is not what was linked. */
  | 'content_hash_mismatch'
  /** The chain names an event at this position that is not in the ledger. */
  | 'missing_event'
  /** The event sits at a position the chain gives to another event. */
  | 'reordered'
  /** The event's previous-hash is not the hash of the link before it. */
  | 'broken_prev_link'
  /** The event claims a position no link records. */
  | 'unlinked_event';

export interface BrokenLink {
  contactId: string;
  seq: number;
  eventId?: string;
  problem: ChainProblem;
  detail: string;
}

export interface LedgerVerification {
  businessId: string;
  ok: boolean;
  /** Contacts with at least one linked event, and the linked events checked. */
  chains: number;
  events: number;
  /** Events whose personal part was erased: their digest is linked, the removed values cannot be re-checked. */
  erasedEvents: number;
  /** Events written before the chain existed (or not yet linked): not verified until `ledger seal`. */
  legacy: { chains: number; events: number };
  /** The first broken link of each broken chain (at most MAX_REPORTED; `brokenChains` counts all). */
  broken: BrokenLink[];
  brokenChains: number;
}

const MAX_REPORTED = 1000;
/** Positions read for one chain; a contact's ledger holds a few to a few hundred events. */
const MAX_CHAIN = 10_000;
/** Chains whose links are being read at once. */
const CHAINS_AT_ONCE = 8;

interface ChainWalk {
  contactId: string;
  links: Map<number, LinkDoc>;
  lastSeq: number;
  lastHash: string;
  lastEventId: string;
  linked: number;
  legacy: number;
  broken?: BrokenLink;
}

type EventDoc = Record<string, unknown> & { _id: string; contactId: string; seq?: number; prevHash?: string; hash?: string; prevEventId?: string; linkId?: string; personalSalt?: string; personalDigest?: string; erasedAt?: Date };

/** Linked by the append of this version: the event carries its whole link. */
const carriesItsLink = (e: EventDoc) => typeof e.prevEventId === 'string';

/**
 * The previous version's links of one contact (positions 1 to one past the highest an event linked by
 * them claims), each read by `_id` and all at once: every store this runs on answers an `_id` equality
 * from its index, a stock FerretDB 1.24 included, which scans the collection for `$in`. None for a
 * chain whose events all carry their links.
 */
async function linksOfChain(store: Store, contactId: string, events: EventDoc[]): Promise<Map<number, LinkDoc>> {
  const byLinks = events.filter((e) => typeof e.seq === 'number' && !carriesItsLink(e));
  if (byLinks.length === 0) return new Map();
  const top = Math.max(...byLinks.map((e) => e.seq as number)) + 1;
  const links = await Promise.all(Array.from({ length: Math.min(top, MAX_CHAIN) }, (_, i) => linksOf(store).findOne({ _id: linkIdOf(contactId, i + 1) })));
  return new Map(links.filter((l): l is LinkDoc => l !== null).map((l) => [l.seq, l]));
}

/** The first thing wrong with this event as the next one of its chain, if anything. */
function checkEvent(walk: ChainWalk, e: EventDoc): BrokenLink | undefined {
  const seq = e.seq as number;
  const at = (s: number, problem: ChainProblem, detail: string, eventId?: string): BrokenLink => ({ contactId: walk.contactId, seq: s, eventId, problem, detail });
  const expected = walk.lastSeq + 1;
  if (seq > expected) {
    const gapId = walk.links.get(expected)?.eventId ?? (carriesItsLink(e) && seq === expected + 1 ? e.prevEventId : undefined);
    return at(expected, 'missing_event', gapId ? `the chain links event ${gapId} here; it is not in the ledger` : `no event at ${expected}; the next event claims ${seq}`, gapId || undefined);
  }
  if (seq < expected) return at(seq, 'reordered', `a second event claims position ${seq}`, e._id);
  if (carriesItsLink(e)) return checkOwnLink(walk, e);
  const link = walk.links.get(seq);
  if (!link) return at(seq, 'unlinked_event', 'the event claims a position that no link records', e._id);
  if (link.eventId !== e._id) return at(seq, 'reordered', `the chain links event ${link.eventId} at this position, not this one`, e._id);
  if (e.prevHash !== walk.lastHash || link.prevHash !== walk.lastHash) return at(seq, 'broken_prev_link', 'its previous-hash is not the hash of the link before it', e._id);
  if (typeof e.personalSalt === 'string' && personalDigestOf(e, e.personalSalt) !== e.personalDigest) return at(seq, 'content_hash_mismatch', 'the phone or proof changed after it was linked', e._id);
  const hash = linkHashOf(seq, walk.lastHash, contentHashOf(e));
  if (hash !== link.hash || e.hash !== link.hash) return at(seq, 'content_hash_mismatch', 'the content changed after it was linked', e._id);
  return undefined;
}

/** An event that carries its link: it must follow the event before it, by id and by hash. */
function checkOwnLink(walk: ChainWalk, e: EventDoc): BrokenLink | undefined {
  const seq = e.seq as number;
  const at = (problem: ChainProblem, detail: string): BrokenLink => ({ contactId: walk.contactId, seq, eventId: e._id, problem, detail });
  if (e.linkId !== linkIdOf(walk.contactId, seq) || e.prevEventId !== walk.lastEventId) return at('reordered', `the event was linked at another position (after ${e.prevEventId || 'the start'}), not after ${walk.lastEventId || 'the start'}`);
  if (e.prevHash !== walk.lastHash) return at('broken_prev_link', 'its previous-hash is not the hash of the event before it');
  if (typeof e.personalSalt === 'string' && personalDigestOf(e, e.personalSalt) !== e.personalDigest) return at('content_hash_mismatch', 'the phone or proof changed after it was linked');
  if (linkHashOf(seq, walk.lastHash, contentHashOf(e)) !== e.hash) return at('content_hash_mismatch', 'the content changed after it was linked');
  return undefined;
}

/**
 * The chain ends before its head hint: its last event was deleted, unless that event was appended
 * while this walk read the chain (then it is in the store at the hint's position).
 */
async function deletedTail(store: Store, walk: ChainWalk, head: HeadDoc | null): Promise<BrokenLink | undefined> {
  if (!head || head.seq <= walk.lastSeq) return undefined;
  if (head.eventId) {
    const appended = await store.consentEvents.findById(head.eventId).lean();
    if (appended && appended.seq === head.seq) return undefined;
  }
  const eventId = head.seq === walk.lastSeq + 1 ? head.eventId : undefined;
  return { contactId: walk.contactId, seq: walk.lastSeq + 1, eventId, problem: 'missing_event', detail: eventId ? `the chain links event ${eventId} here; it is not in the ledger` : `the chain reached ${head.seq}; its events end at ${walk.lastSeq}` };
}

export async function verifyLedger(store: Store, businessId: string): Promise<LedgerVerification> {
  const result: LedgerVerification = { businessId, ok: true, chains: 0, events: 0, erasedEvents: 0, legacy: { chains: 0, events: 0 }, broken: [], brokenChains: 0 };

  const finish = async (w: ChainWalk, head: HeadDoc | null) => {
    if (!w.broken && w.linked > 0) {
      // A deleted last event leaves its link (the previous version's) or the head hint behind the last event seen.
      const tail = w.links.get(w.lastSeq + 1);
      if (tail) w.broken = { contactId: w.contactId, seq: tail.seq, eventId: tail.eventId, problem: 'missing_event', detail: `the chain links event ${tail.eventId} here; it is not in the ledger` };
      else w.broken = await deletedTail(store, w, head);
    }
    if (w.linked > 0) result.chains += 1;
    if (w.legacy > 0) {
      result.legacy.chains += 1;
      result.legacy.events += w.legacy;
    }
    if (w.broken) {
      result.brokenChains += 1;
      if (result.broken.length < MAX_REPORTED) result.broken.push(w.broken);
    }
  };

  const walkChain = async (contactId: string, events: EventDoc[]) => {
    const [links, head] = await Promise.all([linksOfChain(store, contactId, events), headsOf(store).findOne({ _id: contactId })]);
    const walk: ChainWalk = { contactId, links, lastSeq: 0, lastHash: GENESIS_HASH, lastEventId: '', linked: 0, legacy: 0 };
    for (const e of events) {
      if (typeof e.seq !== 'number') {
        walk.legacy += 1;
        continue;
      }
      walk.linked += 1;
      result.events += 1;
      if (e.erasedAt) result.erasedEvents += 1;
      if (walk.broken) continue;
      walk.broken = checkEvent(walk, e);
      walk.lastSeq = e.seq;
      walk.lastHash = e.hash ?? '';
      walk.lastEventId = e._id;
    }
    await finish(walk, head);
  };

  // The stream is in (contact, seq) order: a contact's events are gathered, then its chain is walked
  // while the next ones are read, a few chains at a time.
  const inFlight = new Set<Promise<void>>();
  const walkSoon = async (events: EventDoc[]) => {
    if (inFlight.size >= CHAINS_AT_ONCE) await Promise.race(inFlight);
    const p = walkChain(events[0].contactId, events).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let chain: EventDoc[] = [];
  const cursor = store.consentEvents.find({ businessId }).sort({ contactId: 1, seq: 1, _id: 1 }).lean().cursor({ batchSize: 500 });
  for await (const doc of cursor) {
    const e = doc as unknown as EventDoc;
    if (chain.length > 0 && chain[0].contactId !== e.contactId) {
      await walkSoon(chain);
      chain = [];
    }
    chain.push(e);
  }
  if (chain.length > 0) await walkSoon(chain);
  await Promise.all(inFlight);
  result.ok = result.brokenChains === 0;
  return result;
}

/** Links every event of the business written before the chain existed, oldest first; answers how many. */
export async function sealLedger(store: Store, businessId: string): Promise<{ sealed: number }> {
  let sealed = 0;
  const cursor = store.consentEvents.find({ businessId, seq: { $exists: false } }).sort({ at: 1, _id: 1 }).lean().cursor({ batchSize: 500 });
  for await (const e of cursor) {
    await linkLegacyEvent(store, { _id: e._id as string, contactId: e.contactId });
    sealed += 1;
  }
  return { sealed };
}
