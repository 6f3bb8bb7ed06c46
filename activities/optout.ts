import { activityInfo, getClient, log } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { Business, BusinessRegistry } from '../domain/business';
import type { Locale } from '../domain/messages';
import { isDuplicateKey, type Store } from '../store/models';
import { appendConsentEvent, appendConsentEvents, consentEvent, setCurrentConsent, setCurrentConsents, upsertContact } from '../store/queries';
import { requireBusiness } from './business';
import type { InboundMessageInput } from '../workflows/inbound/contract';
import { OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type ContactBlocked, type OptOutInput } from '../workflows/optout/contract';

export interface OptOutDeps {
  store: Store;
  businesses: BusinessRegistry;
}

/** Twilio error codes that mean the recipient unsubscribed at the carrier (texted STOP to it). */
export const CARRIER_UNSUBSCRIBED_CODES: ReadonlySet<number> = new Set([21610]);

/**
 * How long the workflow's block waits for sends that passed the gate to come back from the provider
 * (below its 30 s start-to-close), and after how long an in-flight mark is taken for a dead attempt's.
 * The age is generous: on an overloaded worker a provider call can outlive its activity's 30 s, and
 * a mark ignored too early would let the acknowledgement come before that message.
 */
const IN_FLIGHT_WAIT_MS = 25_000;
const IN_FLIGHT_MAX_AGE_MS = 120_000;

/**
 * Marks of sends whose provider call is running, one document each, written only by insert and
 * delete. Not fields on the contact: FerretDB 1.24 applies an update by reading the document,
 * changing it and writing it back whole with nothing held in between, so sends updating the contact
 * document while an opt-out blocks it could write the old `messaging` back. The collection stays tiny
 * (a mark lives only while its call runs), so reading it by contact id is cheap even where the store
 * scans.
 */
interface FenceDoc {
  _id: string;
  contactId: string;
  at: Date;
}
const fenceOf = (store: Store) => store.connection.collection<FenceDoc>('send_fence');

/**
 * The block also lives in a document of its own. FerretDB 1.24 applies an update by reading and
 * rewriting the whole document, so a concurrent write to the contact (a journey starting, an inbound
 * message) can put `messaging` back to its old value; an inserted document cannot be undone that way.
 */
interface BlockDoc {
  _id: string;
  at: Date;
}
const blocksOf = (store: Store) => store.connection.collection<BlockDoc>('contact_blocks');

export async function isBlocked(store: Store, contactId: string, contact?: { messaging?: string | null } | null): Promise<boolean> {
  if (contact?.messaging === 'opted_out') return true;
  return (await blocksOf(store).findOne({ _id: contactId })) !== null;
}

/** Lifts a block no newer than the contact's own act (a later opt-out stands). */
export async function liftBlock(store: Store, contactId: string, notAfter: Date): Promise<void> {
  await blocksOf(store).deleteOne({ _id: contactId, at: { $lte: notAfter } });
}
const fenceId = (idempotencyKey: string) => createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);

/**
 * Registers a send as at the provider, then reads the contact's block: a send that finds one takes its
 * mark back and must not send (returns false). The block is written before the opt-out reads the
 * marks, and this mark before this read, so at least one of the two sees the other.
 */
export async function enterSendFence(store: Store, contactId: string, idempotencyKey: string): Promise<boolean> {
  const _id = fenceId(idempotencyKey);
  try {
    await fenceOf(store).insertOne({ _id, contactId, at: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await fenceOf(store).updateOne({ _id }, { $set: { at: new Date() } });
  }
  const contact = await store.contacts.findById(contactId).lean();
  if (!(await isBlocked(store, contactId, contact))) return true;
  await fenceOf(store).deleteOne({ _id });
  return false;
}

export async function leaveSendFence(store: Store, _contactId: string, idempotencyKey: string): Promise<void> {
  await fenceOf(store).deleteOne({ _id: fenceId(idempotencyKey) });
}

/** The ledger category of an event about the contact's messaging as a whole, not one category. */
export const MESSAGING_SCOPE = '*';

export function messagingResumedText({ business, locale }: { business: Business; locale: Locale }): string {
  return {
    en: `${business.name}: you can receive messages from us again. Reply STOP at any time to opt out.`,
    es: `${business.name}: puedes volver a recibir nuestros mensajes. Responde STOP en cualquier momento para darte de baja.`,
    fr: `${business.name} : vous pouvez à nouveau recevoir nos messages. Répondez STOP à tout moment pour vous désinscrire.`,
  }[locale];
}

export function preferencesLinkText(locale: Locale, url: string): string {
  return { en: `Choose what you receive: ${url}`, es: `Elige qué recibes: ${url}`, fr: `Choisissez ce que vous recevez : ${url}` }[locale];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Blocks the contact for the send gate, then waits (up to waitMs) until no send that registered
 * before the block is still at the provider (see enterSendFence for why every other send refuses).
 * `inFlight` counts the sends still registered when the wait ended (0 unless the provider is slower
 * than waitMs). A block older than the contact's last START (a late retry) changes nothing.
 */
export async function blockMessaging(
  store: Store,
  c: { businessId: string; contactId: string; phone: string; at: Date },
  waitMs = IN_FLIGHT_WAIT_MS,
): Promise<{ blocked: boolean; inFlight: number }> {
  const block = () =>
    store.contacts.updateOne(
      { _id: c.contactId, $or: [{ messagingResumedAt: { $exists: false } }, { messagingResumedAt: { $lt: c.at } }] },
      { $set: { messaging: 'opted_out', optedOutAt: c.at } },
      { strict: false, strictQuery: false },
    );
  // Blocked already (the webhook blocks before answering; the workflow's first step repeats it for
  // durability): two reads instead of two writes, which matters on a single-writer store.
  const [known, blockDoc] = await Promise.all([store.contacts.findById(c.contactId).lean(), blocksOf(store).findOne({ _id: c.contactId })]);
  if (!(known?.messaging === 'opted_out' && blockDoc)) {
    // One write for a known contact. No match means no document yet (someone who never heard from us
    // is blocked too) or a later START; once the document surely exists, a second try tells which.
    let r = await block();
    if (r.matchedCount === 0) {
      await upsertContact(store, { businessId: c.businessId, contactId: c.contactId, phone: c.phone });
      r = await block();
    }
    if (r.matchedCount === 0) return { blocked: false, inFlight: 0 };
    try {
      await blocksOf(store).insertOne({ _id: c.contactId, at: c.at });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  const until = Date.now() + waitMs;
  for (;;) {
    const since = Date.now() - IN_FLIGHT_MAX_AGE_MS;
    const marks = await fenceOf(store).find({ contactId: c.contactId }).toArray();
    const inFlight = marks.filter((m) => new Date(m.at).getTime() > since).length;
    if (inFlight === 0 || Date.now() > until) return { blocked: true, inFlight };
    await sleep(20);
  }
}

/**
 * Starts the opt-out when the carrier refused a send because the contact unsubscribed there, and
 * blocks the contact before the refused send returns, so the journey's next step (another channel)
 * is already refused. Called from inside the send activity; keyed by the refused send, so a retry
 * starts nothing new.
 */
export async function startCarrierOptOut(store: Store, send: { idempotencyKey: string; businessId: string; contactId: string; phone: string }, errorCode: number, detail: string): Promise<void> {
  const origin = `provider.${errorCode}.${send.idempotencyKey}`;
  const receivedAt = new Date();
  const input: OptOutInput = {
    origin,
    businessId: send.businessId,
    contactId: send.contactId,
    phone: send.phone,
    channel: 'provider',
    reason: `the carrier refused a send: the recipient unsubscribed there (error ${errorCode})`,
    source: { kind: 'provider', reference: send.idempotencyKey },
    receivedAt: receivedAt.toISOString(),
    payload: { errorCode, detail, idempotencyKey: send.idempotencyKey },
  };
  try {
    await getClient().workflow.start(OPTOUT_WORKFLOW_TYPE, { workflowId: optOutWorkflowId(origin), taskQueue: activityInfo().taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  } catch (err) {
    if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') return;
    throw err;
  }
  await blockMessaging(store, { ...send, at: receivedAt }, 5_000);
}

export function createOptOutActivities({ store, businesses }: OptOutDeps) {
  function scopeOf(business: Business, requested: string[] | undefined): { categories: string[]; allCategories: boolean } {
    const all = business.categories.map((c) => c.id);
    const categories = requested?.length ? requested.filter((c) => all.includes(c)) : all;
    return { categories, allCategories: categories.length === all.length };
  }

  /**
   * The opt-out's first step: an opt-out of every category blocks the contact (the send gate refuses
   * from then on) and outlasts any send already past the gate. A subset opt-out blocks nothing.
   */
  async function blockContact(input: OptOutInput & { optOutId: string }): Promise<ContactBlocked> {
    const business = requireBusiness(businesses, input.businessId);
    const { categories, allCategories } = scopeOf(business, input.categories);
    if (!allCategories) {
      await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
      return { categories, allCategories, blocked: false, at: new Date().toISOString() };
    }
    const block = await blockMessaging(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, at: new Date(input.receivedAt) });
    if (block.inFlight > 0) log.warn('sends still at the provider after the block', { inFlight: block.inFlight });
    if (!block.blocked) log.info('the contact opted back in after this opt-out; the block is not set again');
    return { categories, allCategories, blocked: block.blocked, at: new Date().toISOString() };
  }

  /** One ledger event per category with its proof; event ids derive from the opt-out id, so a retry writes nothing twice. */
  async function recordOptOut(input: OptOutInput & { optOutId: string }): Promise<{ categories: string[]; allCategories: boolean }> {
    const business = requireBusiness(businesses, input.businessId);
    const { categories, allCategories } = scopeOf(business, input.categories);
    const at = new Date(input.receivedAt);

    // The block is blockContact's alone: setting it again here could undo a START that came in between.
    if (input.channel === 'whatsapp') {
      await store.contacts.updateOne({ _id: input.contactId }, { $max: { lastWhatsappInboundAt: at } });
    }
    const recordedAt = new Date().toISOString();
    const eventIdOf = (category: string) => `${input.optOutId}:${category}:opted_out`;
    // One insert and one bulk update for all categories: on FerretDB every round trip is a write of its own.
    await appendConsentEvents(
      store,
      categories.map((category) =>
        consentEvent(input, eventIdOf(category), category, 'opted_out', at, {
          method: input.source.kind,
          channel: input.channel,
          reason: input.reason,
          text: input.text,
          reference: input.source.reference,
          businessName: business.name,
          allCategories,
          receivedAt: input.receivedAt,
          recordedAt,
          inbound: input.payload,
          optOutId: input.optOutId,
        }),
      ),
    );
    await setCurrentConsents(
      store,
      categories.map((category) => ({ businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_out', since: at, eventId: eventIdOf(category) })),
    );
    return { categories, allCategories };
  }

  /**
   * START (or another opt-in keyword) from a blocked contact is their own act: it lifts the block and
   * undoes the opt-out of every category, so categories they had agreed to before it are opted in
   * again. Categories they never agreed to stay as they are. Keyed by the inbound MessageSid.
   */
  async function resumeMessaging(input: InboundMessageInput): Promise<{ resumed: boolean; categories: string[] }> {
    const business = requireBusiness(businesses, input.businessId);
    const resumeId = `resume.${input.channel}.${input.messageSid}`;
    const scopeEventId = `${resumeId}:${MESSAGING_SCOPE}:messaging_resumed`;
    const contact = await store.contacts.findById(input.contactId).lean();
    if (contact?.messaging !== 'opted_out') {
      // Before the event had a type of its own, the same record was an `opted_in` of category `*`.
      const earlier = (await store.consentEvents.findById(scopeEventId).lean()) ?? (await store.consentEvents.findById(`${resumeId}:${MESSAGING_SCOPE}:opted_in`).lean());
      return { resumed: !!earlier, categories: ((earlier?.proof as { restored?: string[] } | undefined)?.restored) ?? [] };
    }

    const [events, consents] = await Promise.all([
      store.consentEvents.find({ businessId: input.businessId, contactId: input.contactId }).sort({ at: 1 }).lean(),
      store.consents.find({ businessId: input.businessId, contactId: input.contactId }).lean(),
    ]);
    const lastBeforeBlock = new Map<string, string>();
    for (const e of events) {
      if (e.category === MESSAGING_SCOPE || e.type === 'confirmation_sent' || e.type === 'messaging_resumed') continue;
      if (e.type === 'opted_out' && (e.proof as { allCategories?: boolean } | undefined)?.allCategories) continue;
      lastBeforeBlock.set(e.category, e.type);
    }
    const currentlyOut = new Set(consents.filter((c) => c.status === 'opted_out').map((c) => c.category));
    const restored = business.categories.map((c) => c.id).filter((c) => lastBeforeBlock.get(c) === 'opted_in' && currentlyOut.has(c));

    const at = new Date(input.receivedAt);
    const proof = {
      method: 'keyword_start',
      channel: input.channel,
      text: input.text,
      providerId: input.messageSid,
      businessName: business.name,
      receivedAt: input.receivedAt,
      recordedAt: new Date().toISOString(),
      inbound: input.payload,
      resumeId,
    };
    for (const category of restored) {
      const eventId = `${resumeId}:${category}:opted_in`;
      await appendConsentEvent(store, consentEvent(input, eventId, category, 'opted_in', at, { ...proof, restoresBefore: contact.optedOutAt }));
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_in', since: at, eventId });
    }
    // Written last: its presence tells a retry that everything above is done.
    await appendConsentEvent(
      store,
      consentEvent(input, scopeEventId, MESSAGING_SCOPE, 'messaging_resumed', at, {
        ...proof,
        scope: 'messaging',
        restored,
        note: 'lifts the block of an opt-out from everything; consent per category is what the category events say',
      }),
    );
    await liftBlock(store, input.contactId, at);
    await store.contacts.updateOne({ _id: input.contactId }, { $set: { messaging: 'allowed', messagingResumedAt: at } }, { strict: false });
    return { resumed: true, categories: restored };
  }

  /** Keeps every inbound message, also from unknown contacts or with no journey; opens the WhatsApp window. */
  async function recordInbound(input: InboundMessageInput & { routedTo: string }): Promise<void> {
    const at = new Date(input.receivedAt);
    await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
    if (input.channel === 'whatsapp') {
      await store.contacts.updateOne({ _id: input.contactId }, { $max: { lastWhatsappInboundAt: at } });
    }
    await store.inbound.updateOne(
      { _id: input.messageSid },
      {
        $setOnInsert: {
          businessId: input.businessId,
          contactId: input.contactId,
          channel: input.channel,
          from: input.phone,
          intent: input.intent,
          routedTo: input.routedTo,
          receivedAt: at,
          payload: input.payload,
        },
      },
      { upsert: true },
    );
  }

  return { blockContact, recordOptOut, resumeMessaging, recordInbound };
}

export type OptOutActivities = ReturnType<typeof createOptOutActivities>;
