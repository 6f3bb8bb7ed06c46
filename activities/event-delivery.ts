import { log } from '@temporalio/activity';
import { DEAD_LETTER_AFTER_ATTEMPTS, deliveryAnswer, perContactInOrder, type ConsentChangeEvent, type DeliveryAnswer, type DeliverySettings } from '../domain/consent-events';
import { EVENT_ID_HEADER, signEvent, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../lib/event-signature';
import { guardedPost } from '../lib/guarded-post';
import { openStoredSecret, type SecretBox } from '../lib/secret-box';
import { deliveryStatesAmong, findEndpoint, recordAttempts, type DeliveryAttempt } from '../store/event-endpoints';
import { happenedSince, recordedBetween, type FeedEvent, type FeedKey } from '../store/ledger-feed';
import type { Store } from '../store/models';
import type { DeliveryRound, DeliveryRoundResult, ReplayRound, ReplayRoundResult } from '../workflows/event-delivery/contract';

export interface EventDeliveryDeps {
  store: Store;
  /** Deliver to loopback and private addresses too (EVENT_ENDPOINTS_ALLOW_PRIVATE): development and tests; off by default. */
  allowPrivateReceivers?: boolean;
  /** Opens endpoints' sealed signing secrets (EVENT_SECRETS_KEY). */
  eventSecrets?: SecretBox;
}

const PAGE = 500;
/** Contacts whose events go out side by side in a round; each contact's own events go one after another. */
const CONTACTS_AT_ONCE = 4;

interface Endpoint {
  _id: string;
  businessId: string;
  url: string;
  secret: string;
  deliverFrom: Date;
}

/** What one POST came to; `answer` is how the round treats it (domain/consent-events.ts). */
type Sent = { answer: DeliveryAnswer } & ({ ok: true; status: number } | { ok: false; status?: number; error: string });

function bodyOf(endpoint: Endpoint, e: FeedEvent, replay: boolean): string {
  const event: ConsentChangeEvent = {
    id: e._id,
    endpointId: endpoint._id,
    businessId: e.businessId,
    contactId: e.contactId,
    phone: e.phone,
    category: e.category,
    type: e.type,
    at: e.at.toISOString(),
    ...(e.recordedAt ? { recordedAt: e.recordedAt.toISOString() } : {}),
    proof: e.proof ?? {},
    ...(replay ? { replay: true } : {}),
  };
  return JSON.stringify(event);
}

/** One signed POST; anything but a 2xx is a failure to try again (redirects are not followed). */
async function post(endpoint: Endpoint, e: FeedEvent, replay: boolean, timeoutMs: number, allowPrivate: boolean): Promise<Sent> {
  const body = bodyOf(endpoint, e, replay);
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const status = await guardedPost(endpoint.url, {
      headers: { 'content-type': 'application/json', 'user-agent': 'optinflow-events/1', [EVENT_ID_HEADER]: e._id, [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signEvent(endpoint.secret, timestamp, body) },
      body,
      timeoutMs,
      allowPrivate,
    });
    const answer = deliveryAnswer(status);
    return answer === 'delivered' ? { answer, ok: true, status } : { answer, ok: false, status, error: `http_${status}` };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { answer: deliveryAnswer(undefined), ok: false, error: code === 'EPRIVATEADDRESS' ? 'private_address' : code || (err as Error).name || 'network_error' };
  }
}

const attemptOf = (endpoint: Endpoint, e: FeedEvent, sent: Sent, replay: boolean): DeliveryAttempt => ({
  endpointId: endpoint._id,
  event: { _id: e._id, contactId: e.contactId, category: e.category, type: e.type },
  ok: sent.ok,
  at: new Date(),
  replay,
  status: sent.status,
  error: sent.ok ? undefined : sent.error,
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createEventDeliveryActivities({ store, allowPrivateReceivers = false, eventSecrets }: EventDeliveryDeps) {
  /** The endpoint with its signing secret opened; a secret that cannot be opened fails the round (retried). */
  async function readEndpoint(endpointId: string): Promise<Endpoint | null> {
    const endpoint = (await findEndpoint(store, endpointId)) as Endpoint | null;
    return endpoint && { ...endpoint, secret: openStoredSecret(endpoint.secret, endpoint._id, eventSecrets) };
  }

  /**
   * The events recorded since the watermark (less the overlap) that the endpoint has not had, oldest
   * first, up to a batch; `complete` when nothing recorded before the horizon was left out.
   */
  async function pendingEvents(endpoint: Endpoint, watermark: number, horizon: Date, s: DeliverySettings): Promise<{ pending: FeedEvent[]; complete: boolean; tried: Map<string, number> }> {
    const from = new Date(Math.max(watermark - s.overlapMs, endpoint.deliverFrom.getTime()));
    const pending: FeedEvent[] = [];
    const tried = new Map<string, number>();
    let key: FeedKey | undefined;
    for (;;) {
      const page = await recordedBetween(store, endpoint.businessId, from, horizon, PAGE, key);
      const states = await deliveryStatesAmong(store, endpoint._id, page.map((e) => e._id));
      for (const e of page) {
        if (states.settled.has(e._id)) continue;
        if (pending.length === s.batchLimit) return { pending, complete: false, tried };
        pending.push(e);
        tried.set(e._id, states.attempts.get(e._id) ?? 0);
      }
      if (page.length < PAGE) return { pending, complete: true, tried };
      const last = page[page.length - 1];
      key = { at: last.recordedAt!, id: last._id };
    }
  }

  /**
   * One round: waits `settleMs` so events written together are all there, then sends the endpoint's
   * pending events, each contact's in ledger order. The first failure stops that contact's events
   * (one refused on its last allowed attempt is set aside as a dead letter instead, and they go on);
   * a receiver that cannot be reached or answers 5xx/429 stops the round. The new watermark is the
   * recording time of the oldest event still waiting (or the horizon when none is).
   */
  async function deliverPendingEvents(round: DeliveryRound): Promise<DeliveryRoundResult> {
    const s = round.settings;
    const horizon = new Date();
    await sleep(s.settleMs);
    const endpoint = await readEndpoint(round.endpointId);
    if (!endpoint) return { endpointGone: true, watermark: round.watermark, delivered: 0, failed: 0, more: false };
    const { pending, complete, tried } = await pendingEvents(endpoint, round.watermark, horizon, s);
    const deadLetterAfter = s.deadLetterAfterAttempts ?? DEAD_LETTER_AFTER_ATTEMPTS;

    let receiverDown = false;
    const undelivered: FeedEvent[] = [];
    let delivered = 0;
    let deadLettered = 0;
    const contacts = perContactInOrder(pending);
    const sendContact = async (events: FeedEvent[]) => {
      const attempts: DeliveryAttempt[] = [];
      for (let i = 0; i < events.length; i++) {
        if (receiverDown) {
          undelivered.push(...events.slice(i));
          break;
        }
        const sent = await post(endpoint, events[i], false, s.requestTimeoutMs, allowPrivateReceivers);
        attempts.push(attemptOf(endpoint, events[i], sent, false));
        const { answer } = sent;
        if (answer === 'delivered') {
          delivered += 1;
          continue;
        }
        if (answer === 'refused' && (tried.get(events[i]._id) ?? 0) + 1 >= deadLetterAfter) {
          // Refused every time: set aside, so it no longer holds back this contact's later events.
          attempts[attempts.length - 1].deadLetter = true;
          deadLettered += 1;
          continue;
        }
        if (answer === 'receiver_down') receiverDown = true;
        undelivered.push(...events.slice(i));
        break;
      }
      await recordAttempts(store, attempts);
    };
    for (let i = 0; i < contacts.length; i += CONTACTS_AT_ONCE) await Promise.all(contacts.slice(i, i + CONTACTS_AT_ONCE).map(sendContact));

    const waiting = [...undelivered.map((e) => e.recordedAt!.getTime()), ...(complete ? [horizon.getTime()] : [pending[pending.length - 1].recordedAt!.getTime()])];
    const watermark = Math.max(round.watermark - s.overlapMs, Math.min(...waiting));
    if (deadLettered > 0) log.warn('consent events the receiver kept refusing set aside as dead letters', { endpointId: endpoint._id, deadLettered, after: deadLetterAfter });
    if (undelivered.length > 0) log.warn('consent events not delivered; trying again after the backoff', { endpointId: endpoint._id, delivered, waiting: undelivered.length });
    return { watermark, delivered, failed: undelivered.length, more: !complete && undelivered.length === 0 };
  }

  /** Sends again, one at a time in the order they happened, the events since `since`; a failure stops the round where it is. */
  async function replayEvents(round: ReplayRound): Promise<ReplayRoundResult> {
    const s = round.settings;
    const endpoint = await readEndpoint(round.endpointId);
    if (!endpoint) return { endpointGone: true, delivered: 0, failed: 0, done: true };
    const key = round.key ? { at: new Date(round.key.at), id: round.key.id } : undefined;
    const events = await happenedSince(store, endpoint.businessId, new Date(round.since), s.batchLimit, key);
    let last = round.key;
    let delivered = 0;
    const attempts: DeliveryAttempt[] = [];
    try {
      for (const e of events) {
        const sent = await post(endpoint, e, true, s.requestTimeoutMs, allowPrivateReceivers);
        attempts.push(attemptOf(endpoint, e, sent, true));
        if (!sent.ok) return { key: last, delivered, failed: 1, done: false };
        delivered += 1;
        last = { at: e.at.getTime(), id: e._id };
      }
    } finally {
      await recordAttempts(store, attempts);
    }
    return { key: last, delivered, failed: 0, done: events.length < s.batchLimit };
  }

  return { deliverPendingEvents, replayEvents };
}

export type EventDeliveryActivities = ReturnType<typeof createEventDeliveryActivities>;
