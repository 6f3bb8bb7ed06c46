import { isDuplicateKey, type ConsentEventDoc, type OutboxDoc, type Store } from './models';

export interface ContactFields {
  businessId: string;
  contactId: string;
  phone: string;
  email?: string;
  locale?: string;
  timezone?: string;
  name?: string;
}

/** Creates the contact or refreshes what we know; concurrent first writes race on _id, so retry once. */
export async function upsertContact(store: Store, c: ContactFields): Promise<void> {
  const set: Record<string, string> = {};
  for (const k of ['email', 'locale', 'timezone', 'name'] as const) if (c[k]) set[k] = c[k] as string;
  const update = { $set: set, $setOnInsert: { businessId: c.businessId, phone: c.phone, messaging: 'allowed' } };
  try {
    await store.contacts.updateOne({ _id: c.contactId }, update, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await store.contacts.updateOne({ _id: c.contactId }, update, { upsert: true });
  }
}

/** Appends a ledger event exactly once: a retried activity hits the same _id and changes nothing. */
export async function appendConsentEvent(store: Store, event: ConsentEventDoc & { _id: string }): Promise<'written' | 'already'> {
  try {
    await store.consentEvents.create(event);
    return 'written';
  } catch (err) {
    if (isDuplicateKey(err)) return 'already';
    throw err;
  }
}

export async function setCurrentConsent(
  store: Store,
  c: { businessId: string; contactId: string; phone: string; category: string; status: 'opted_in' | 'opted_out'; since: Date; eventId: string; journeyId?: string },
): Promise<void> {
  const _id = `${c.contactId}:${c.category}`;
  const set = { businessId: c.businessId, contactId: c.contactId, phone: c.phone, category: c.category, status: c.status, since: c.since, lastEventId: c.eventId, journeyId: c.journeyId };
  // Only move forward in time: a late retry of an older change must not undo a newer one.
  const res = await store.consents.updateOne({ _id, since: { $lte: c.since } }, { $set: set });
  if (res.matchedCount === 0) {
    const existing = await store.consents.findById(_id).lean();
    if (existing) return;
    try {
      await store.consents.create({ _id, ...set });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await store.consents.updateOne({ _id, since: { $lte: c.since } }, { $set: set });
    }
  }
}

export type OutboxClaim =
  | { kind: 'claimed'; attempts: number }
  | { kind: 'finished'; row: OutboxDoc & { _id: string } }
  | { kind: 'ambiguous'; row: OutboxDoc & { _id: string } };

/**
 * Claims the right to call the provider for one idempotency key. A row left `claimed` by an attempt
 * that never reported back means the provider may or may not have been called: we do not resend.
 */
export async function claimOutbox(
  store: Store,
  row: { _id: string; businessId: string; contactId: string; journeyId?: string; channel: string; purpose: string; to: string },
): Promise<OutboxClaim> {
  const now = new Date();
  try {
    await store.outbox.create({ ...row, status: 'claimed', attempts: 1, claimedAt: now });
    return { kind: 'claimed', attempts: 1 };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const reclaimed = await store.outbox.updateOne({ _id: row._id, status: 'released' }, { $set: { status: 'claimed', claimedAt: now }, $inc: { attempts: 1 } });
  if (reclaimed.modifiedCount === 1) {
    const r = await store.outbox.findById(row._id).lean();
    return { kind: 'claimed', attempts: r?.attempts ?? 2 };
  }
  const existing = (await store.outbox.findById(row._id).lean()) as (OutboxDoc & { _id: string }) | null;
  if (!existing) throw new Error(`outbox row ${row._id} vanished while claiming`);
  if (existing.status === 'claimed') {
    await store.outbox.updateOne({ _id: row._id, status: 'claimed' }, { $set: { status: 'ambiguous', reason: 'a previous attempt stopped after claiming; the provider may have accepted it' } });
    return { kind: 'ambiguous', row: { ...existing, status: 'ambiguous' } };
  }
  if (existing.status === 'ambiguous') return { kind: 'ambiguous', row: existing };
  return { kind: 'finished', row: existing };
}

export async function finishOutbox(
  store: Store,
  id: string,
  result: { status: 'sent' | 'failed' | 'refused' | 'ambiguous' | 'released'; providerId?: string; errorCode?: number; reason?: string; shown?: string },
): Promise<void> {
  const set: Record<string, unknown> = { status: result.status };
  if (result.providerId) set.providerId = result.providerId;
  if (result.errorCode !== undefined) set.errorCode = result.errorCode;
  if (result.reason) set.reason = result.reason;
  if (result.shown) set.shown = result.shown;
  if (result.status === 'sent') set.sentAt = new Date();
  await store.outbox.updateOne({ _id: id }, { $set: set });
}

export async function recordRefusedSend(
  store: Store,
  row: { _id: string; businessId: string; contactId: string; journeyId?: string; channel: string; purpose: string; to: string; reason: string },
): Promise<void> {
  try {
    await store.outbox.create({ ...row, status: 'refused', attempts: 0 });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

export async function consentOverview(store: Store, businessId: string, contactId: string) {
  const [contact, consents, events] = await Promise.all([
    store.contacts.findById(contactId).lean(),
    store.consents.find({ businessId, contactId }).sort({ category: 1 }).lean(),
    store.consentEvents.find({ businessId, contactId }).sort({ at: 1 }).lean(),
  ]);
  return { contact, consents, events };
}

export interface ConfirmationSent {
  businessId: string;
  contactId: string;
  phone: string;
  categories: string[];
  providerId?: string;
  outcome: string;
  shown?: string;
  at: string;
}

/**
 * The WhatsApp confirmation joins the proof: one ledger event per category, pointing at the opt-in it
 * confirms (`<originId>:<category>:opted_in`), and its message id on the current consent while that
 * opt-in is still the one in effect. `origin` names where the consent came from, e.g. `{ journeyId }`.
 */
export async function recordConfirmationSent(store: Store, originId: string, origin: Record<string, string>, c: ConfirmationSent): Promise<void> {
  for (const category of c.categories) {
    const optedInEventId = `${originId}:${category}:opted_in`;
    await appendConsentEvent(store, {
      _id: `${originId}:${category}:confirmation_sent`,
      businessId: c.businessId,
      contactId: c.contactId,
      phone: c.phone,
      category,
      type: 'confirmation_sent',
      at: new Date(c.at),
      proof: { channel: 'whatsapp', providerId: c.providerId, outcome: c.outcome, shown: c.shown, ...origin, optedInEventId },
    });
    if (c.providerId) {
      await store.consents.updateOne({ _id: `${c.contactId}:${category}`, lastEventId: optedInEventId }, { $set: { confirmationMessageId: c.providerId } });
    }
  }
}
