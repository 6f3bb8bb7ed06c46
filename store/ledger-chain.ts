import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import { isDuplicateKey, type ConsentEventDoc, type Store } from './models';

/**
 * Each contact's ledger events form a hash chain (docs/compliance.md). The chain's order is decided
 * by link documents `${contactId}:${seq}`, written only by insert: FerretDB 1.24 has no transactions
 * and rewrites whole documents on update, so the one reliable arbiter between two processes appending
 * for one contact at once is the duplicate `_id`. The loser reads the new head and tries the next seq.
 * Each event then carries a copy of its link (seq, prevHash, hash), set once.
 *
 * The personal part of an event (phone, proof) enters the chain only as a salted digest, so erasure
 * can remove it, and the salt that would let anyone test a guessed number against the digest, while
 * every hash still checks.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** The chain's own fields: not content. */
const CHAIN_FIELDS = ['seq', 'prevHash', 'hash'] as const;
/** What erasure removes; covered by `personalDigest`. */
export const PERSONAL_FIELDS = ['phone', 'proof'] as const;
/** Kept beside the content: the salt (removed by erasure) and when erasure happened. */
const SEAL_FIELDS = ['personalSalt', 'erasedAt'] as const;
const NOT_CONTENT = new Set<string>([...CHAIN_FIELDS, ...PERSONAL_FIELDS, ...SEAL_FIELDS]);

export interface LinkDoc {
  _id: string;
  businessId: string;
  contactId: string;
  seq: number;
  eventId: string;
  prevHash: string;
  hash: string;
  at: Date;
}

interface HeadDoc {
  _id: string;
  seq: number;
}

export const linksOf = (store: Store) => store.connection.collection<LinkDoc>('ledger_links');
/** Where a contact's chain ended when last appended to; only a hint (never ahead of the real head). */
export const headsOf = (store: Store) => store.connection.collection<HeadDoc>('ledger_heads');
export const linkIdOf = (contactId: string, seq: number) => `${contactId}:${seq}`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

type StoredEvent = Record<string, unknown> & { _id: string; contactId: string };

export function personalDigestOf(event: Record<string, unknown>, salt: string): string {
  return sha256(`${salt}\n${canonicalJson(Object.fromEntries(PERSONAL_FIELDS.map((f) => [f, event[f]])))}`);
}

/**
 * Every field of the event but the chain's, the personal part and its salt: fields added to events
 * later (an `actor`) are covered without a change here.
 */
export function contentOf(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([k]) => !NOT_CONTENT.has(k)));
}

export const contentHashOf = (event: Record<string, unknown>) => sha256(canonicalJson(contentOf(event)));
export const linkHashOf = (seq: number, prevHash: string, contentHash: string) => sha256(`${seq}\n${prevHash}\n${contentHash}`);

/** The salt and digest of the personal part, added before the event is first written. */
export function sealPersonalPart<E extends ConsentEventDoc>(event: E): E & { personalSalt: string; personalDigest: string } {
  const personalSalt = randomBytes(16).toString('hex');
  return { ...event, personalSalt, personalDigest: personalDigestOf(event as unknown as Record<string, unknown>, personalSalt) };
}

async function readHead(store: Store, contactId: string): Promise<LinkDoc | undefined> {
  const hint = await headsOf(store).findOne({ _id: contactId });
  let seq = hint?.seq ?? 0;
  let head = seq > 0 ? ((await linksOf(store).findOne({ _id: linkIdOf(contactId, seq) })) ?? undefined) : undefined;
  if (seq > 0 && !head) seq = 0;
  for (;;) {
    const next = await linksOf(store).findOne({ _id: linkIdOf(contactId, seq + 1) });
    if (!next) return head;
    head = next;
    seq += 1;
  }
}

/** Copies the link onto its event, once: every writer writes the same values, so racing ones agree. */
async function completeLink(store: Store, link: LinkDoc): Promise<void> {
  await store.consentEvents.updateOne({ _id: link.eventId, seq: { $exists: false } }, { $set: { seq: link.seq, prevHash: link.prevHash, hash: link.hash } }, { strict: false });
}

const MAX_ROUNDS = 100;

/**
 * Links a written event at the end of its contact's chain, exactly once. A process that stopped after
 * inserting a link but before copying it onto the event leaves that link at the head; whoever comes
 * next (its retry, or another append) completes it before going on, so an event can never be linked
 * twice: the event is read after the head, and a link further back was completed before anyone linked
 * past it.
 */
export async function chainEvent(store: Store, ref: { _id: string; contactId: string }): Promise<LinkDoc> {
  const eventId = ref._id;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const head = await readHead(store, ref.contactId);
    const event = (await store.consentEvents.findById(eventId).lean()) as StoredEvent | null;
    if (!event) throw new Error(`ledger event ${eventId} is not in the store`);
    if (event.contactId !== ref.contactId) throw new Error(`ledger event ${eventId} is stored for another contact: its id is not unique to its origin`);
    if (typeof event.seq === 'number') return { ...(await linksOf(store).findOne({ _id: linkIdOf(event.contactId, event.seq) }))! };
    if (head?.eventId === eventId) {
      await completeLink(store, head);
      return head;
    }
    if (head) await completeLink(store, head);
    if (typeof event.personalDigest !== 'string') {
      // Written before the chain existed: seal its personal part first, so the link's hash can be checked later.
      const personalSalt = randomBytes(16).toString('hex');
      await store.consentEvents.updateOne({ _id: eventId, personalDigest: { $exists: false } }, { $set: { personalSalt, personalDigest: personalDigestOf(event, personalSalt) } }, { strict: false });
      continue;
    }
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const link: LinkDoc = {
      _id: linkIdOf(event.contactId, seq),
      businessId: String(event.businessId),
      contactId: event.contactId,
      seq,
      eventId,
      prevHash,
      hash: linkHashOf(seq, prevHash, contentHashOf(event)),
      at: new Date(),
    };
    try {
      await linksOf(store).insertOne(link);
    } catch (err) {
      if (isDuplicateKey(err)) continue;
      throw err;
    }
    await completeLink(store, link);
    await moveHeadHint(store, event.contactId, seq);
    return link;
  }
  throw new Error(`could not link ledger event ${eventId}: its contact's chain kept moving`);
}

async function moveHeadHint(store: Store, contactId: string, seq: number): Promise<void> {
  try {
    await headsOf(store).updateOne({ _id: contactId }, { $max: { seq } }, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await headsOf(store).updateOne({ _id: contactId }, { $max: { seq } });
  }
}
