import { activityInfo, ApplicationFailure, getClient, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Business, BusinessRegistry } from '../domain/business';
import type { Locale } from '../domain/messages';
import type { Store } from '../store/models';
import { appendConsentEvent, setCurrentConsent, upsertContact } from '../store/queries';
import { FailureType } from '../workflows/failures';
import type { InboundMessageInput } from '../workflows/inbound/contract';
import { contactBlockedUpdate, OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type ContactBlocked, type OptOutInput } from '../workflows/optout/contract';

export interface OptOutDeps {
  store: Store;
  businesses: BusinessRegistry;
}

/** Twilio error codes that mean the recipient unsubscribed at the carrier (texted STOP to it). */
export const CARRIER_UNSUBSCRIBED_CODES: ReadonlySet<number> = new Set([21610]);

/**
 * How long the block waits for sends that passed the gate to come back from the provider. Below the
 * send activity's 30 s start-to-close: a claim older than that belongs to an attempt that is dead.
 */
const IN_FLIGHT_WAIT_MS = 25_000;
const IN_FLIGHT_CLAIM_AGE_MS = 35_000;

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
 * Starts the opt-out when the carrier refused a send because the contact unsubscribed there, and
 * waits briefly for the block so the journey's next send (another channel) is already refused.
 * Called from inside the send activity; keyed by the refused send, so a retry starts nothing new.
 */
export async function startCarrierOptOut(
  send: { idempotencyKey: string; businessId: string; contactId: string; phone: string },
  errorCode: number,
  detail: string,
  waitMs = 5_000,
): Promise<void> {
  const origin = `provider.${errorCode}.${send.idempotencyKey}`;
  const input: OptOutInput = {
    origin,
    businessId: send.businessId,
    contactId: send.contactId,
    phone: send.phone,
    channel: 'provider',
    reason: `the carrier refused a send: the recipient unsubscribed there (error ${errorCode})`,
    source: { kind: 'provider', reference: send.idempotencyKey },
    receivedAt: new Date().toISOString(),
    payload: { errorCode, detail, idempotencyKey: send.idempotencyKey },
  };
  const client: Client = getClient();
  const workflowId = optOutWorkflowId(origin);
  try {
    await client.workflow.start(OPTOUT_WORKFLOW_TYPE, { workflowId, taskQueue: activityInfo().taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  } catch (err) {
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.workflow.getHandle(workflowId).executeUpdate(contactBlockedUpdate),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
  } catch (err) {
    log.warn('carrier opt-out started; did not see the block', { error: (err as Error).message });
  } finally {
    clearTimeout(timer);
  }
}

export function createOptOutActivities({ store, businesses }: OptOutDeps) {
  function businessOf(id: string): Business {
    const business = businesses.get(id);
    if (!business) throw ApplicationFailure.create({ type: FailureType.UnknownBusiness, message: `unknown business "${id}"`, nonRetryable: true });
    return business;
  }

  function scopeOf(business: Business, requested: string[] | undefined): { categories: string[]; allCategories: boolean } {
    const all = business.categories.map((c) => c.id);
    const categories = requested?.length ? requested.filter((c) => all.includes(c)) : all;
    return { categories, allCategories: categories.length === all.length };
  }

  /**
   * Waits until no send for this contact holds an outbox claim. A send claims its outbox row before it
   * re-reads consent and calls the provider; the block writes the contact before it reads the claims.
   * So either that send sees the block and refuses, or the block sees its claim and waits here.
   */
  async function drainSendsInFlight(contactId: string): Promise<number> {
    const until = Date.now() + IN_FLIGHT_WAIT_MS;
    for (let polls = 0; ; polls++) {
      const inFlight = await store.outbox.countDocuments({
        contactId,
        status: 'claimed',
        purpose: { $ne: 'optout_confirmation' },
        claimedAt: { $gt: new Date(Date.now() - IN_FLIGHT_CLAIM_AGE_MS) },
      });
      if (inFlight === 0) return polls;
      if (Date.now() > until) {
        log.warn('sends still at the provider after the block; acknowledging anyway', { inFlight });
        return polls;
      }
      await sleep(20);
    }
  }

  /**
   * The opt-out's first step: an opt-out of every category blocks the contact (the send gate refuses
   * from then on) and outlasts any send already past the gate. A subset opt-out blocks nothing.
   */
  async function blockContact(input: OptOutInput & { optOutId: string }): Promise<ContactBlocked> {
    const business = businessOf(input.businessId);
    const { categories, allCategories } = scopeOf(business, input.categories);
    const at = new Date(input.receivedAt);
    await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
    if (!allCategories) return { categories, allCategories, blocked: false, at: new Date().toISOString() };
    await store.contacts.updateOne({ _id: input.contactId }, { $set: { messaging: 'opted_out', optedOutAt: at } });
    const polls = await drainSendsInFlight(input.contactId);
    if (polls > 0) log.info('waited for sends in flight before acknowledging the opt-out', { polls });
    return { categories, allCategories, blocked: true, at: new Date().toISOString() };
  }

  /** One ledger event per category with its proof; event ids derive from the opt-out id, so a retry writes nothing twice. */
  async function recordOptOut(input: OptOutInput & { optOutId: string }): Promise<{ categories: string[]; allCategories: boolean }> {
    const business = businessOf(input.businessId);
    const { categories, allCategories } = scopeOf(business, input.categories);
    const at = new Date(input.receivedAt);

    await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
    if (allCategories) {
      await store.contacts.updateOne({ _id: input.contactId }, { $set: { messaging: 'opted_out', optedOutAt: at } });
    }
    if (input.channel === 'whatsapp') {
      await store.contacts.updateOne({ _id: input.contactId }, { $max: { lastWhatsappInboundAt: at } });
    }
    for (const category of categories) {
      const eventId = `${input.optOutId}:${category}:opted_out`;
      await appendConsentEvent(store, {
        _id: eventId,
        businessId: input.businessId,
        contactId: input.contactId,
        phone: input.phone,
        category,
        type: 'opted_out',
        at,
        proof: {
          method: input.source.kind,
          channel: input.channel,
          reason: input.reason,
          text: input.text,
          reference: input.source.reference,
          businessName: business.name,
          allCategories,
          receivedAt: input.receivedAt,
          recordedAt: new Date().toISOString(),
          inbound: input.payload,
          optOutId: input.optOutId,
        },
      });
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_out', since: at, eventId });
    }
    return { categories, allCategories };
  }

  /**
   * START (or another opt-in keyword) from a blocked contact is their own act: it lifts the block and
   * undoes the opt-out of every category, so categories they had agreed to before it are opted in
   * again. Categories they never agreed to stay as they are. Keyed by the inbound MessageSid.
   */
  async function resumeMessaging(input: InboundMessageInput): Promise<{ resumed: boolean; categories: string[] }> {
    const business = businessOf(input.businessId);
    const resumeId = `resume.${input.channel}.${input.messageSid}`;
    const scopeEventId = `${resumeId}:${MESSAGING_SCOPE}:opted_in`;
    const contact = await store.contacts.findById(input.contactId).lean();
    if (contact?.messaging !== 'opted_out') {
      const earlier = await store.consentEvents.findById(scopeEventId).lean();
      return { resumed: !!earlier, categories: ((earlier?.proof as { restored?: string[] } | undefined)?.restored) ?? [] };
    }

    const [events, consents] = await Promise.all([
      store.consentEvents.find({ businessId: input.businessId, contactId: input.contactId }).sort({ at: 1 }).lean(),
      store.consents.find({ businessId: input.businessId, contactId: input.contactId }).lean(),
    ]);
    const lastBeforeBlock = new Map<string, string>();
    for (const e of events) {
      if (e.category === MESSAGING_SCOPE || e.type === 'confirmation_sent') continue;
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
      await appendConsentEvent(store, { _id: eventId, businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, type: 'opted_in', at, proof: { ...proof, restoresBefore: contact.optedOutAt } });
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_in', since: at, eventId });
    }
    // Written last: its presence tells a retry that everything above is done.
    await appendConsentEvent(store, {
      _id: scopeEventId,
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      category: MESSAGING_SCOPE,
      type: 'opted_in',
      at,
      proof: { ...proof, scope: 'messaging', restored, note: 'lifts the block of an opt-out from everything; consent per category is what the category events say' },
    });
    await store.contacts.updateOne({ _id: input.contactId, messaging: 'opted_out' }, { $set: { messaging: 'allowed' } });
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
