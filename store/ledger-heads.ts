import { EMPTY_CHAIN, headsOf, linksOf, readLinkedHead, type ChainHead } from './ledger-chain';
import type { Store } from './models';

/**
 * Where each contact's chain ends, as an append starts from it: remembered from this process's own
 * appends, read ahead by a caller about to append, or read from the head hint. Any of them may be
 * stale (another process appended since): that costs the append a refused insert and a lookup, never
 * a wrong link (store/ledger-append.ts).
 */

export interface HeadState {
  head: ChainHead;
  /** A head document exists for the contact (it is updated, not inserted). */
  stored: boolean;
}

/** Heads remembered per store; a stale one only costs a refused insert. */
const HEADS_KEPT = 10_000;
/** Heads read ahead and not used yet; an append that never came leaves its read here until it is too old or pushed out. */
const AHEAD_KEPT = 1_000;
/** Past this age a head read ahead is read again: by then it is likelier stale than a round trip is slow. */
const AHEAD_FRESH_MS = 5_000;

interface ChainMemory {
  heads: Map<string, HeadState>;
  ahead: Map<string, { at: number; reading: Promise<HeadState> }>;
  /** Whether the store holds the previous version's link documents (asked once: nothing writes them any more). */
  hasLinks?: Promise<boolean>;
}
const memories = new WeakMap<Store, ChainMemory>();

function memoryOf(store: Store): ChainMemory {
  let m = memories.get(store);
  if (!m) memories.set(store, (m = { heads: new Map(), ahead: new Map() }));
  return m;
}

export function remember(store: Store, contactId: string, state: HeadState): void {
  const { heads } = memoryOf(store);
  heads.delete(contactId);
  heads.set(contactId, state);
  if (heads.size > HEADS_KEPT) heads.delete(heads.keys().next().value as string);
}

async function readStoredHead(store: Store, contactId: string): Promise<HeadState> {
  const doc = await headsOf(store).findOne({ _id: contactId });
  if (doc && typeof doc.hash === 'string' && typeof doc.eventId === 'string') return { head: { seq: doc.seq, hash: doc.hash, eventId: doc.eventId }, stored: true };
  // A chain the previous version kept in link documents (its head hint has no hash, or none was written).
  if (doc || (await holdsLinkDocuments(store))) return { head: await readLinkedHead(store, contactId, doc?.seq ?? 0), stored: doc !== null };
  return { head: EMPTY_CHAIN, stored: false };
}

/**
 * Asked once per store while the answer is known; a failed read is not kept, so the next append asks
 * again instead of failing on the remembered error for as long as the process runs.
 */
function holdsLinkDocuments(store: Store): Promise<boolean> {
  const memory = memoryOf(store);
  memory.hasLinks ??= linksOf(store)
    .findOne({}, { projection: { _id: 1 } })
    .then(
      (l) => l !== null,
      (err: unknown) => {
        memory.hasLinks = undefined;
        throw err;
      },
    );
  return memory.hasLinks;
}

/**
 * Starts reading a contact's head for an append this process is about to make once other reads come
 * back (a STOP's acknowledgement): the append then starts from it instead of a round trip of its own.
 * Settles once the read is done; never fails.
 */
export function readHeadAhead(store: Store, contactId: string): Promise<void> {
  const m = memoryOf(store);
  if (m.heads.has(contactId)) return Promise.resolve();
  const pending = m.ahead.get(contactId);
  // One still fresh serves; an older one (its append never came) is read again.
  if (pending && Date.now() - pending.at <= AHEAD_FRESH_MS) return pending.reading.then(() => undefined, () => undefined);
  m.ahead.delete(contactId);
  const reading = readStoredHead(store, contactId);
  m.ahead.set(contactId, { at: Date.now(), reading });
  if (m.ahead.size > AHEAD_KEPT) m.ahead.delete(m.ahead.keys().next().value as string);
  // Settles once read (a failed read included: the append then reads for itself).
  return reading.then(() => undefined, () => undefined);
}

export async function readHead(store: Store, contactId: string): Promise<HeadState> {
  const m = memoryOf(store);
  const remembered = m.heads.get(contactId);
  if (remembered) return { ...remembered };
  const ahead = m.ahead.get(contactId);
  if (ahead) {
    m.ahead.delete(contactId);
    if (Date.now() - ahead.at <= AHEAD_FRESH_MS) {
      const state = await ahead.reading.catch(() => undefined);
      if (state) return { ...state, head: { ...state.head } };
    }
  }
  return readStoredHead(store, contactId);
}
