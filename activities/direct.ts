import { ApplicationFailure } from '@temporalio/activity';
import { contactActor } from '../domain/access';
import { categoryLabels, type BusinessRegistry } from '../domain/business';
import type { Store } from '../store/models';
import { appendConsentEvent, consentEvent, recordConfirmationSent, setCurrentConsent, upsertContact, type ConfirmationSent } from '../store/queries';
import { requireBusiness } from './business';
import { liftBlock } from '../store/blocks';
import type { DirectConsentInput } from '../workflows/direct/contract';
import { FailureType } from '../workflows/failures';

export interface DirectConsentDeps {
  store: Store;
  businesses: BusinessRegistry;
}

export interface MessagingChange {
  before: 'allowed' | 'opted_out';
  reallowed: boolean;
  optedOutAt?: string;
  note?: string;
}

export function createDirectConsentActivities({ store, businesses }: DirectConsentDeps) {
  const optedInEventId = (directConsentId: string, category: string) => `${directConsentId}:${category}:opted_in`;

  /**
   * A contact who opted out of everything and now consents by their own act may be messaged again,
   * but only when the act came after the opt-out: a paper form signed before a STOP does not undo it.
   */
  function messagingChange(contact: { messaging?: string | null; optedOutAt?: Date | null } | null, consentedAt: Date, label: string): MessagingChange {
    if (contact?.messaging !== 'opted_out') return { before: 'allowed', reallowed: false };
    const optedOutAt = contact.optedOutAt ? new Date(contact.optedOutAt) : undefined;
    if (optedOutAt && optedOutAt.getTime() > consentedAt.getTime()) {
      return { before: 'opted_out', reallowed: false, optedOutAt: optedOutAt.toISOString(), note: `the contact opted out after this ${label}; the later opt-out stands` };
    }
    return { before: 'opted_out', reallowed: true, optedOutAt: optedOutAt?.toISOString(), note: `the contact had opted out of all messages; this ${label} is their own act, so messaging is allowed again` };
  }

  /**
   * Writes one opted_in ledger event per category with the act's proof, moves the current consent
   * forward where this act is the newest word, and lifts a global opt-out the act supersedes.
   * Event ids derive from the direct consent id, so a retry writes nothing twice and keeps the
   * decision the first attempt recorded.
   */
  async function recordDirectConsent(input: DirectConsentInput & { directConsentId: string }): Promise<{ categories: string[]; superseded: string[]; reallowed: boolean }> {
    const business = requireBusiness(businesses, input.businessId);
    const known = new Set(business.categories.map((c) => c.id));
    const categories = input.categories.filter((c) => known.has(c));
    if (categories.length === 0) throw ApplicationFailure.create({ type: FailureType.BadInput, message: 'none of the categories belongs to the business', nonRetryable: true });
    const consentedAt = new Date(input.consentedAt);
    const label = input.method === 'offline_document' ? 'signed document' : 'key press in the business’s phone menu';

    await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
    const firstEvent = await store.consentEvents.findById(optedInEventId(input.directConsentId, categories[0])).lean();
    const messaging: MessagingChange =
      ((firstEvent?.proof as { messaging?: MessagingChange } | undefined)?.messaging) ?? messagingChange(await store.contacts.findById(input.contactId).lean(), consentedAt, label);

    for (const category of categories) {
      const eventId = optedInEventId(input.directConsentId, category);
      const event = consentEvent(input, eventId, category, 'opted_in', consentedAt, {
          method: input.method,
          channel: input.channel,
          shown: input.shown,
          businessName: business.name,
          categoryLabels: categoryLabels(business, categories),
          confirmedCategories: categories,
          consentedAt: input.consentedAt,
          receivedAt: input.receivedAt,
          recordedAt: new Date().toISOString(),
          evidence: input.evidence,
          source: input.source,
          messaging,
          directConsentId: input.directConsentId,
        }, input.actor ?? (input.method === 'ivr_keypress' ? contactActor('ivr') : { kind: 'api_key' }));
      await appendConsentEvent(store, event);
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_in', since: consentedAt, eventId, proof: event.proof });
    }
    if (messaging.reallowed) {
      // An opt-out that arrives between attempts is newer than the act and must stand.
      await liftBlock(store, input.contactId, consentedAt);
      await store.contacts.updateOne(
        { _id: input.contactId, messaging: 'opted_out', $or: [{ optedOutAt: { $lte: consentedAt } }, { optedOutAt: { $exists: false } }] },
        { $set: { messaging: 'allowed' } },
      );
    }

    const current = await store.consents.find({ businessId: input.businessId, contactId: input.contactId, category: { $in: categories } }).lean();
    const inEffect = new Set(current.filter((c) => c.lastEventId === optedInEventId(input.directConsentId, c.category)).map((c) => c.category));
    return { categories: categories.filter((c) => inEffect.has(c)), superseded: categories.filter((c) => !inEffect.has(c)), reallowed: messaging.reallowed };
  }

  async function recordDirectConfirmation(input: ConfirmationSent & { directConsentId: string }): Promise<void> {
    await recordConfirmationSent(store, input.directConsentId, { directConsentId: input.directConsentId }, input);
  }

  return { recordDirectConsent, recordDirectConfirmation };
}

export type DirectConsentActivities = ReturnType<typeof createDirectConsentActivities>;
