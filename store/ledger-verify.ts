import { chainEvent, contentHashOf, GENESIS_HASH, linkHashOf, linkIdOf, linksOf, personalDigestOf, type LinkDoc } from './ledger-chain';
import type { Store } from './models';

/**
 * Walks every chain of a business in one pass over its events, in (contact, seq) order, holding one
 * contact's events at a time; each is checked against its link document (a chain's links are read by
 * `_id` in one query).
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
  linked: number;
  legacy: number;
  broken?: BrokenLink;
}

type EventDoc = Record<string, unknown> & { _id: string; contactId: string; seq?: number; prevHash?: string; hash?: string; personalSalt?: string; personalDigest?: string; erasedAt?: Date };

/**
 * One contact's links (positions 1 to one past the highest an event claims), each read by `_id` and
 * all at once: FerretDB 1.24 answers an `_id` equality from its index but scans the collection for `$in`.
 */
async function linksOfChain(store: Store, contactId: string, events: EventDoc[]): Promise<Map<number, LinkDoc>> {
  const top = Math.max(0, ...events.map((e) => (typeof e.seq === 'number' ? e.seq : 0))) + 1;
  const links = await Promise.all(Array.from({ length: Math.min(top, MAX_CHAIN) }, (_, i) => linksOf(store).findOne({ _id: linkIdOf(contactId, i + 1) })));
  return new Map(links.filter((l): l is LinkDoc => l !== null).map((l) => [l.seq, l]));
}

/** The first thing wrong with this event as the next one of its chain, if anything. */
function checkEvent(walk: ChainWalk, e: EventDoc): BrokenLink | undefined {
  const seq = e.seq as number;
  const at = (s: number, problem: ChainProblem, detail: string, eventId?: string): BrokenLink => ({ contactId: walk.contactId, seq: s, eventId, problem, detail });
  const expected = walk.lastSeq + 1;
  if (seq > expected) {
    const gap = walk.links.get(expected);
    return at(expected, 'missing_event', gap ? `the chain links event ${gap.eventId} here; it is not in the ledger` : `no event and no link at ${expected}; the next event claims ${seq}`, gap?.eventId);
  }
  const link = walk.links.get(seq);
  if (seq < expected) return at(seq, 'reordered', `a second event claims position ${seq}`, e._id);
  if (!link) return at(seq, 'unlinked_event', 'the event claims a position that no link records', e._id);
  if (link.eventId !== e._id) return at(seq, 'reordered', `the chain links event ${link.eventId} at this position, not this one`, e._id);
  if (e.prevHash !== walk.lastHash || link.prevHash !== walk.lastHash) return at(seq, 'broken_prev_link', 'its previous-hash is not the hash of the link before it', e._id);
  if (typeof e.personalSalt === 'string' && personalDigestOf(e, e.personalSalt) !== e.personalDigest) return at(seq, 'content_hash_mismatch', 'the phone or proof changed after it was linked', e._id);
  const hash = linkHashOf(seq, walk.lastHash, contentHashOf(e));
  if (hash !== link.hash || e.hash !== link.hash) return at(seq, 'content_hash_mismatch', 'the content changed after it was linked', e._id);
  return undefined;
}

export async function verifyLedger(store: Store, businessId: string): Promise<LedgerVerification> {
  const result: LedgerVerification = { businessId, ok: true, chains: 0, events: 0, erasedEvents: 0, legacy: { chains: 0, events: 0 }, broken: [], brokenChains: 0 };

  const finish = (w: ChainWalk) => {
    if (!w.broken && w.linked > 0) {
      // A deleted last event leaves its link behind the last event seen.
      const tail = w.links.get(w.lastSeq + 1);
      if (tail) w.broken = { contactId: w.contactId, seq: tail.seq, eventId: tail.eventId, problem: 'missing_event', detail: `the chain links event ${tail.eventId} here; it is not in the ledger` };
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
    const walk: ChainWalk = { contactId, links: await linksOfChain(store, contactId, events), lastSeq: 0, lastHash: GENESIS_HASH, linked: 0, legacy: 0 };
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
    }
    finish(walk);
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
    await chainEvent(store, { _id: e._id as string, contactId: e.contactId });
    sealed += 1;
  }
  return { sealed };
}
