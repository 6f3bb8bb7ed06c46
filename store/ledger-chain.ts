import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import type { ConsentEventDoc, Store } from './models';

/**
 * Each contact's ledger events form a hash chain (docs/compliance.md). An event carries its own link:
 * its position `seq`, `linkId` (`${contactId}:${seq}`, under a unique index, so two processes
 * appending for one contact at once cannot both take a position: the store refuses the second insert),
 * `prevHash` and `prevEventId` (the hash and id of the event before it) and `hash`. The append is in
 * store/ledger-append.ts.
 *
 * Chains written by the previous version kept their order in link documents (`ledger_links`, written
 * only by insert) and copied each link onto its event afterwards; those events have no `prevEventId`
 * and still verify against their links. A chain of that shape is continued by the new append once its
 * last link is complete (`readLinkedHead`).
 *
 * The personal part of an event (phone, proof) enters the chain only as a salted digest, so erasure
 * can remove it, and the salt that would let anyone test a guessed number against the digest, while
 * every hash still checks.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** The chain's own fields: not content. */
const CHAIN_FIELDS = ['seq', 'prevHash', 'hash', 'prevEventId', 'linkId'] as const;
/** What erasure removes; covered by `personalDigest`. */
export const PERSONAL_FIELDS = ['phone', 'proof'] as const;
/** Kept beside the content: the salt (removed by erasure) and when erasure happened. */
const SEAL_FIELDS = ['personalSalt', 'erasedAt'] as const;
const NOT_CONTENT = new Set<string>([...CHAIN_FIELDS, ...PERSONAL_FIELDS, ...SEAL_FIELDS]);

/** A link document of the previous version's chains. */
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

/**
 * Where a contact's chain ended when last appended to: a hint, never ahead of the chain (it is written
 * after the event), and what `ledger verify` finds a deleted last event by. Heads written by the
 * previous version carry `seq` alone.
 */
export interface HeadDoc {
  _id: string;
  seq: number;
  hash?: string;
  eventId?: string;
}

/** The end of a chain an append continues from; seq 0 is the empty chain. */
export interface ChainHead {
  seq: number;
  hash: string;
  eventId: string;
}
export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH, eventId: '' };

export const linksOf = (store: Store) => store.connection.collection<LinkDoc>('ledger_links');
export const headsOf = (store: Store) => store.connection.collection<HeadDoc>('ledger_heads');
export const linkIdOf = (contactId: string, seq: number) => `${contactId}:${seq}`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

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

/** The chain fields of an event linked right after `head`. */
export function linkAfter(head: ChainHead, event: Record<string, unknown> & { _id: string; contactId: string }) {
  const seq = head.seq + 1;
  return { seq, linkId: linkIdOf(event.contactId, seq), prevHash: head.hash, prevEventId: head.eventId, hash: linkHashOf(seq, head.hash, contentHashOf(event)) };
}

/** Copies a previous-version link onto its event, once: every writer writes the same values, so racing ones agree. */
export async function completeLink(store: Store, link: LinkDoc): Promise<void> {
  await store.consentEvents.updateOne({ _id: link.eventId, seq: { $exists: false } }, { $set: { seq: link.seq, prevHash: link.prevHash, hash: link.hash } }, { strict: false });
}

/**
 * The head of a chain kept in link documents (the previous version's), walked from `fromSeq` (a head
 * hint, never ahead) by `_id`; a link whose copy onto its event was cut short is completed first, so
 * the chain can go on with events that carry their own links.
 */
export async function readLinkedHead(store: Store, contactId: string, fromSeq: number): Promise<ChainHead> {
  let seq = fromSeq;
  let head = seq > 0 ? ((await linksOf(store).findOne({ _id: linkIdOf(contactId, seq) })) ?? undefined) : undefined;
  if (seq > 0 && !head) seq = 0;
  for (;;) {
    const next = await linksOf(store).findOne({ _id: linkIdOf(contactId, seq + 1) });
    if (!next) break;
    head = next;
    seq += 1;
  }
  if (!head) return EMPTY_CHAIN;
  await completeLink(store, head);
  return { seq: head.seq, hash: head.hash, eventId: head.eventId };
}
