import { activityInfo, getClient, log } from '@temporalio/activity';
import { contactActor } from '../domain/access';
import type { Business, BusinessRegistry } from '../domain/business';
import type { Locale } from '../domain/messages';
import { blockMessaging, liftBlock, readBlockState, type BlockState } from '../store/blocks';
import { recordInboundMessage } from '../store/inbound';
import { closeJourneyForOptOut } from '../store/journeys';
import type { Store } from '../store/models';
import { startOptOutWorkflow } from '../services/workflow-starts';
import { optOutScope, recordOptOutEvents, type RecordedOptOut } from '../store/optout-ledger';
import { appendConsentEvent, consentEvent, setCurrentConsent, upsertContact } from '../store/queries';
import { requireBusiness } from './business';
import type { InboundMessageInput } from '../workflows/inbound/contract';
import { optOutWorkflowId, type ContactBlocked, type OptOutInput } from '../workflows/optout/contract';

export interface OptOutDeps {
  store: Store;
  businesses: BusinessRegistry;
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

/**
 * Starts the opt-out when the carrier refused a send because the contact unsubscribed there, and
 * blocks the contact and writes the ledger events before the refused send returns: the journey's
 * next step (another channel) is already refused, and the opt-out is proof without waiting for its
 * workflow. Called from inside the send activity; keyed by the refused send, so a retry starts
 * nothing new (the workflow repeats the block and finds the events written).
 */
export async function startCarrierOptOut(store: Store, business: Business, send: { idempotencyKey: string; businessId: string; contactId: string; phone: string }, errorCode: number, detail: string): Promise<void> {
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
  const { started } = await startOptOutWorkflow({ client: getClient(), taskQueue: activityInfo().taskQueue }, input);
  if (!started) return;
  await Promise.all([blockMessaging(store, { ...send, at: receivedAt }, 5_000), recordOptOutEvents(store, business, { ...input, optOutId: optOutWorkflowId(origin) })]);
}

/**
 * How long the workflow's block step waits for sends already at the provider. Short: the step is a
 * local activity, and one that runs long holds the workflow task open. The opt-out confirmation, the
 * only message that must come after those sends, waits for them itself (activities/channel.ts).
 */
const BLOCK_WAIT_MS = 3_000;

export function createOptOutActivities({ store, businesses }: OptOutDeps) {
  /**
   * The opt-out's first step: an opt-out of every category blocks the contact (the send gate refuses
   * from then on) and outlasts any send already past the gate. A subset opt-out blocks nothing.
   */
  async function blockContact(input: OptOutInput & { optOutId: string }): Promise<ContactBlocked> {
    return blockWith(input);
  }

  /**
   * blockContact, given the contact's block state when the caller has read it already; sendsWait
   * 'none' when the step after it waits for the sends at the provider itself.
   */
  async function blockWith(input: OptOutInput & { optOutId: string }, known?: Promise<BlockState>, sendsWait: number | 'none' = BLOCK_WAIT_MS): Promise<ContactBlocked> {
    const business = requireBusiness(businesses, input.businessId);
    const { categories, allCategories } = optOutScope(business, input.categories);
    if (!allCategories) {
      await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
      return { categories, allCategories, blocked: false, at: new Date().toISOString() };
    }
    // The ledger events go in beside the block, not behind its wait for sends at the provider: the
    // person's act is proof the moment it is known, and a send left registered by a crash (its mark
    // expires on its own) must not hold the record back. recordOptOut then finds them written.
    const [block] = await Promise.all([
      blockMessaging(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, at: new Date(input.receivedAt) }, sendsWait, { known }),
      recordOptOutEvents(store, business, input, { lookFirst: true }),
    ]);
    if (block.inFlight > 0) log.warn('sends still at the provider after the block', { inFlight: block.inFlight });
    if (!block.blocked) log.info('the contact opted back in after this opt-out; the block is not set again');
    return { categories, allCategories, blocked: block.blocked, at: new Date().toISOString() };
  }

  /**
   * The opt-out's one store step (optOutWorkflowV3 on): blockContact, and for an opt-out of some
   * categories the ledger events too (an opt-out of everything writes them beside its block); beside
   * them, the record of the journey it ends is closed, which the acknowledgement has usually done.
   * `confirmationFollows`: the caller sends the confirmation next, whose own wait for sends at the
   * provider makes this step's wait a repeat (honourAndConfirm), so it is skipped.
   */
  async function honourOptOut(input: OptOutInput & { optOutId: string }, { confirmationFollows = false }: { confirmationFollows?: boolean } = {}): Promise<ContactBlocked> {
    // One read of the contact serves both: the block's "already blocked?" and the journey to close.
    const known = readBlockState(store, input.contactId);
    const [done] = await Promise.all([blockWith(input, known, confirmationFollows ? 'none' : BLOCK_WAIT_MS), closeJourneyForOptOut(store, input, known.then((k) => k.contact))]);
    if (!done.allCategories) await recordOptOut(input);
    return done;
  }

  /**
   * One ledger event per category with its proof. The acknowledgement usually wrote them already
   * (store/optout-ledger.ts); event ids derive from the opt-out id, so this writes nothing twice and
   * only writes what an acknowledgement that gave up waiting left undone.
   */
  async function recordOptOut(input: OptOutInput & { optOutId: string }): Promise<RecordedOptOut> {
    return recordOptOutEvents(store, requireBusiness(businesses, input.businessId), input, { lookFirst: true });
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
      const event = consentEvent(input, eventId, category, 'opted_in', at, { ...proof, restoresBefore: contact.optedOutAt }, contactActor(input.channel));
      await appendConsentEvent(store, event);
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_in', since: at, eventId, proof: event.proof });
    }
    // Written last: its presence tells a retry that everything above is done.
    await appendConsentEvent(
      store,
      consentEvent(input, scopeEventId, MESSAGING_SCOPE, 'messaging_resumed', at, {
        ...proof,
        scope: 'messaging',
        restored,
        note: 'lifts the block of an opt-out from everything; consent per category is what the category events say',
      }, contactActor(input.channel)),
    );
    await liftBlock(store, input.contactId, at);
    await store.contacts.updateOne({ _id: input.contactId }, { $set: { messaging: 'allowed', messagingResumedAt: at } }, { strict: false });
    return { resumed: true, categories: restored };
  }

  /** Keeps every inbound message, also from unknown contacts or with no journey; opens the WhatsApp window. */
  async function recordInbound(input: InboundMessageInput & { routedTo: string }): Promise<void> {
    await recordInboundMessage(store, input, input.routedTo);
  }

  return { blockContact, honourOptOut, recordOptOut, resumeMessaging, recordInbound };
}

export type OptOutActivities = ReturnType<typeof createOptOutActivities>;
