import { isDuplicateKey } from './errors';
import type { OutboxDoc, Store } from './models';
import { groupCommit, perStore, readsById } from './group-commit';

/**
 * The outbox: one row per idempotency key, so a retried send activity calls the provider at most once
 * per claim. A row whose provider call may or may not have taken effect is `ambiguous` until the send
 * activity's retry (activities/ambiguous-send.ts) or a status callback settles it; `resolution` says how.
 */

export type OutboxRow = OutboxDoc & { _id: string };

export interface OutboxRowInput {
  _id: string;
  businessId: string;
  contactId: string;
  journeyId?: string;
  channel: string;
  purpose: string;
  to: string;
  /** What the contact will read if the provider takes it; kept so a send found later has its proof. */
  shown?: string;
  provider?: 'meta';
  template?: { name: string; language: string };
}

export type OutboxClaim = { kind: 'claimed'; attempts: number } | { kind: 'finished'; row: OutboxRow } | { kind: 'ambiguous'; row: OutboxRow };

/** What settled an ambiguous send and why, e.g. `{ how: 'message_list', detail: 'SM… created 10:00:01' }`. */
export interface ResolutionNote {
  how: string;
  detail?: string;
}

function resolution(outcome: 'found' | 'resent' | 'gave_up', note: ResolutionNote, resends: number) {
  return { outcome, how: note.how, detail: note.detail, at: new Date(), resends };
}

/**
 * Claims the right to call the provider for one idempotency key. A row left `claimed` by an attempt
 * that never reported back means the provider may or may not have been called: it becomes ambiguous,
 * from the moment it was claimed.
 */
export async function claimOutbox(store: Store, row: OutboxRowInput): Promise<OutboxClaim> {
  const now = new Date();
  try {
    await store.outbox.create({ ...row, status: 'claimed', attempts: 1, claimedAt: now });
    return { kind: 'claimed', attempts: 1 };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const set: Record<string, unknown> = { status: 'claimed', claimedAt: now };
  if (row.shown) set.shown = row.shown;
  const reclaimed = await store.outbox.updateOne({ _id: row._id, status: 'released' }, { $set: set, $inc: { attempts: 1 } });
  if (reclaimed.modifiedCount === 1) {
    const r = await store.outbox.findById(row._id).lean();
    return { kind: 'claimed', attempts: r?.attempts ?? 2 };
  }
  const existing = (await store.outbox.findById(row._id).lean()) as OutboxRow | null;
  if (!existing) throw new Error(`outbox row ${row._id} vanished while claiming`);
  if (existing.status === 'claimed') {
    const ambiguousAt = existing.claimedAt ?? now;
    const reason = 'a previous attempt stopped after claiming; the provider may have accepted it';
    await store.outbox.updateOne({ _id: row._id, status: 'claimed' }, { $set: { status: 'ambiguous', ambiguousAt, reason } });
    return { kind: 'ambiguous', row: { ...existing, status: 'ambiguous', ambiguousAt, reason } };
  }
  if (existing.status === 'ambiguous') return { kind: 'ambiguous', row: existing };
  return { kind: 'finished', row: existing };
}

export async function finishOutbox(
  store: Store,
  id: string,
  result: { status: 'sent' | 'failed' | 'refused' | 'released'; providerId?: string; errorCode?: number; reason?: string; shown?: string },
): Promise<void> {
  const set: Record<string, unknown> = { status: result.status };
  if (result.providerId) set.providerId = result.providerId;
  if (result.errorCode !== undefined) set.errorCode = result.errorCode;
  if (result.reason) set.reason = result.reason;
  if (result.shown) set.shown = result.shown;
  if (result.status === 'sent') set.sentAt = new Date();
  await outcomeWrites(store).add({ id, set });
}

/** Outcomes recorded while one is being recorded go in one bulk write (each an idempotent `$set` by `_id`). */
const outcomeWrites = perStore((store: Store) =>
  groupCommit<{ id: string; set: Record<string, unknown> }>(
    (writes) => store.outbox.bulkWrite(writes.map((w) => ({ updateOne: { filter: { _id: w.id }, update: { $set: w.set } } })), { ordered: false }),
    (w) => store.outbox.updateOne({ _id: w.id }, { $set: w.set }),
  ),
);

/**
 * The provider call's outcome is unknown (a 5xx, a timeout). Only a claimed row changes: a status
 * callback may already have settled it as sent.
 */
export async function markAmbiguous(store: Store, id: string, reason: string): Promise<void> {
  await store.outbox.updateOne({ _id: id, status: 'claimed' }, { $set: { status: 'ambiguous', ambiguousAt: new Date(), reason } });
}

/**
 * Records a send that never reached the provider: refused by the gate, or impossible (no address). A row
 * already there stays as it is, except one whose earlier call may have reached the provider: that one
 * is not sent again, and says why.
 */
export async function recordUnsentSend(store: Store, row: OutboxRowInput & { status: 'refused' | 'failed'; reason: string }): Promise<void> {
  try {
    await store.outbox.create({ ...row, attempts: 0 });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const note = { how: 'send_gate', detail: row.reason };
    await store.outbox.updateOne({ _id: row._id, status: { $in: ['claimed', 'ambiguous'] } }, { $set: { status: 'ambiguous', resolution: resolution('gave_up', note, 0) } });
  }
}

/**
 * A final status callback for the message of this outbox row (its key is in the callback URL): an
 * ambiguous row is settled as sent. One read: the caller kept the report first, so a send that marks
 * its row ambiguous after this read finds the report when it settles (activities/ambiguous-send.ts);
 * a callback that beats the send's own answer therefore needs no wait here. It never writes a claimed
 * row (on FerretDB two concurrent updates of a document can lose one).
 */
export async function noteProviderReport(store: Store, key: string, providerId: string): Promise<void> {
  const row = await reportedRows(store).add(key);
  if (row?.status === 'ambiguous') await adoptFoundSend(store, row, providerId, { how: 'status_callback', detail: `the provider reported ${providerId}` });
}

/** The provider has the message: the ambiguous row becomes sent with its id. False when something else settled it first. */
export async function adoptFoundSend(store: Store, row: OutboxRow, providerId: string, note: ResolutionNote): Promise<boolean> {
  const set = { status: 'sent', providerId, sentAt: new Date(), resolution: resolution('found', note, row.resolution?.resends ?? 0) };
  const r = await store.outbox.updateOne({ _id: row._id, status: 'ambiguous' }, { $set: set });
  return r.matchedCount === 1;
}

/**
 * The provider has no such message: the row is claimed again for one more call, with what that call
 * will show. False when something else settled it first.
 */
export async function reclaimForResend(store: Store, row: OutboxRow, note: ResolutionNote, shown: string): Promise<boolean> {
  const resends = (row.resolution?.resends ?? 0) + 1;
  const r = await store.outbox.updateOne(
    { _id: row._id, status: 'ambiguous' },
    { $set: { status: 'claimed', claimedAt: new Date(), shown, resolution: resolution('resent', note, resends) }, $inc: { attempts: 1 } },
  );
  return r.matchedCount === 1;
}

/**
 * Nothing more will be tried for this send, and the row says why: it stays ambiguous, or becomes
 * refused when the provider has none and the gate stopped the resend.
 */
export async function giveUpAmbiguous(store: Store, row: OutboxRow, note: ResolutionNote, status: 'ambiguous' | 'refused'): Promise<void> {
  await store.outbox.updateOne({ _id: row._id, status: 'ambiguous' }, { $set: { status, resolution: resolution('gave_up', note, row.resolution?.resends ?? 0) } });
}

export async function readOutbox(store: Store, id: string): Promise<OutboxRow | null> {
  return (await store.outbox.findById(id).lean()) as OutboxRow | null;
}

/** The rows of callbacks that come while one is read are read together. */
const reportedRows = perStore((store: Store) =>
  readsById<OutboxRow>(
    (key) => readOutbox(store, key),
    async (keys) => (await store.outbox.find({ _id: { $in: keys } }).lean()) as OutboxRow[],
  ),
);

/** Which of these provider ids another outbox row of the contact already holds: they are not this send's. */
export async function providerIdsTakenByOthers(store: Store, row: OutboxRow, providerIds: string[]): Promise<Set<string>> {
  if (providerIds.length === 0) return new Set();
  const taken = await store.outbox.find({ businessId: row.businessId, contactId: row.contactId, providerId: { $in: providerIds }, _id: { $ne: row._id } }, { providerId: 1 }).lean();
  return new Set(taken.map((t) => t.providerId).filter((id): id is string => typeof id === 'string'));
}

/**
 * Sends that have waited longer than `olderThan`: claimed and never finished (a worker died mid-send or
 * an activity is stuck), and ambiguous ones the provider has not settled. For the outbox backlog gauge.
 */
export async function countStuckSends(store: Store, olderThan: Date): Promise<{ claimed: number; ambiguous: number }> {
  const [claimed, ambiguous] = await Promise.all([
    store.outbox.countDocuments({ status: 'claimed', claimedAt: { $lt: olderThan } }),
    store.outbox.countDocuments({ status: 'ambiguous', ambiguousAt: { $lt: olderThan } }),
  ]);
  return { claimed, ambiguous };
}

/**
 * When a journey other than `journeyId` last sent the contact an opt-in request (first request or
 * reminder) since `since`: what the frequency cap counts. A send of unknown outcome may have reached
 * them, so it counts too. Served by the (businessId, contactId, createdAt) index.
 */
export async function lastRequestOfAnotherJourney(store: Store, q: { businessId: string; contactId: string; journeyId: string; since: Date }): Promise<Date | undefined> {
  const row = await store.outbox
    .findOne({ businessId: q.businessId, contactId: q.contactId, createdAt: { $gte: q.since }, purpose: { $in: ['request', 'reminder'] }, status: { $in: ['sent', 'ambiguous'] }, journeyId: { $ne: q.journeyId } })
    .sort({ createdAt: -1 })
    .lean();
  return row ? new Date(row.sentAt ?? row.createdAt) : undefined;
}
