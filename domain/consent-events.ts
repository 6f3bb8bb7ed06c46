/**
 * Consent-change events as a business's endpoint receives them (docs/events.md): one JSON body per
 * ledger event, signed by the worker (lib/event-signature.ts). Pure: the workflow and the activities
 * share the settings and the backoff.
 */

export interface ConsentChangeEvent {
  /** The ledger event's id: the same on every attempt and replay, so receivers dedupe by it. */
  id: string;
  endpointId: string;
  businessId: string;
  contactId: string;
  phone: string;
  category: string;
  /** opted_in, opted_out, declined, confirmation_sent, messaging_resumed, ... */
  type: string;
  /** When it happened (the ledger event's time). */
  at: string;
  /** When the ledger recorded it. */
  recordedAt?: string;
  /** How it happened: the proof's method, channel, source, keyword, journey or opt-out; never the inbound payload. */
  proof: Record<string, unknown>;
  /** Set on deliveries asked for by a replay call. */
  replay?: boolean;
}

/** The proof fields an event carries; the rest (inbound payloads, texts shown) stay in the ledger. */
export const EVENT_PROOF_FIELDS = ['method', 'channel', 'source', 'reference', 'matchedKeyword', 'keywordLanguage', 'journeyId', 'optOutId', 'allCategories', 'confirmedCategories', 'providerId', 'outcome'] as const;

export interface DeliverySettings {
  /** How long the workflow sleeps with nothing to do before it looks anyway (a wake signal lost with a crashed worker). */
  idleCheckMs: number;
  /** Events younger than this wait a little, so one contact's events written moments apart go out in their order. */
  settleMs: number;
  /**
   * Each round re-reads this far back from its watermark: an event is stamped before its insert is
   * committed, and writers' clocks differ, so one can appear behind the watermark. Must exceed the
   * longest insert (the store activities' 30 s timeout) plus the clock skew between hosts.
   */
  overlapMs: number;
  /** Events per round (one activity). */
  batchLimit: number;
  /** Backoff after a round that could not deliver: initial * 2^(failed rounds - 1), at most max. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** One POST's timeout. */
  requestTimeoutMs: number;
  /**
   * Attempts after which an event the receiver refuses (400, 409, 413, 415 or 422: it answers, but not
   * this event) is set aside as a dead letter, so that contact's later events go on. Absent in rounds
   * scheduled by older runs: DEAD_LETTER_AFTER_ATTEMPTS then.
   */
  deadLetterAfterAttempts?: number;
}

/** What a delivery record's status says (store, API filter and docs share this list). */
export const DELIVERY_STATUSES = ['delivered', 'failing', 'dead_letter'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * What the receiver's answer to one POST means for a round:
 * - delivered: a 2xx;
 * - refused: it refuses this event's content (400, 409, 413, 415, 422); after enough attempts the
 *   event is set aside as a dead letter;
 * - receiver_down: no answer, 5xx, 408 or 429; nothing else goes to it this round;
 * - failed: any other answer (401, 403, 404, 410, ...): the receiver is misconfigured, so every event
 *   would get it; this contact's events wait, none is set aside.
 */
export type DeliveryAnswer = 'delivered' | 'refused' | 'receiver_down' | 'failed';

const EVENT_REFUSALS: ReadonlySet<number> = new Set([400, 409, 413, 415, 422]);

/** `status` is the HTTP status, undefined when the receiver could not be reached. */
export function deliveryAnswer(status: number | undefined): DeliveryAnswer {
  if (status === undefined || status >= 500 || status === 429 || status === 408) return 'receiver_down';
  if (status >= 200 && status < 300) return 'delivered';
  return EVENT_REFUSALS.has(status) ? 'refused' : 'failed';
}

/** With the default backoff (5 s doubling to 10 minutes), 12 attempts span about 50 minutes. */
export const DEAD_LETTER_AFTER_ATTEMPTS = 12;

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  idleCheckMs: 30 * 60_000,
  settleMs: 2_000,
  overlapMs: 2 * 60_000,
  batchLimit: 200,
  retryInitialMs: 5_000,
  retryMaxMs: 10 * 60_000,
  requestTimeoutMs: 10_000,
  deadLetterAfterAttempts: DEAD_LETTER_AFTER_ATTEMPTS,
};

export function retryDelayMs(s: Pick<DeliverySettings, 'retryInitialMs' | 'retryMaxMs'>, failedRounds: number): number {
  return Math.min(s.retryMaxMs, s.retryInitialMs * 2 ** Math.max(0, Math.min(30, failedRounds - 1)));
}

interface Ordered {
  _id: string;
  contactId: string;
  at: Date;
  recordedAt?: Date;
}

/**
 * Ledger order is the order of recording (`recordedAt`, then `_id`), the order the chain links them:
 * `at` can lie in the past (a paper form signed last week), and two events of one act can share it,
 * so ordering by `at` would let a delivery round split between them send them in another order.
 */
const recorded = (e: Ordered) => (e.recordedAt ?? e.at).getTime();

/** Events grouped per contact, each contact's in ledger order; contacts in order of their first event. */
export function perContactInOrder<E extends Ordered>(events: E[]): E[][] {
  const byContact = new Map<string, E[]>();
  for (const e of events) {
    const list = byContact.get(e.contactId);
    if (list) list.push(e);
    else byContact.set(e.contactId, [e]);
  }
  const ordered = [...byContact.values()];
  for (const list of ordered) list.sort((a, b) => recorded(a) - recorded(b) || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  return ordered;
}
