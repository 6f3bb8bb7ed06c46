import { ApplicationFailure } from '@temporalio/activity';
import type { BusinessRegistry } from '../domain/business';
import type { Store } from '../store/models';
import { appendConsentEvent, setCurrentConsent, upsertContact } from '../store/queries';
import { FailureType } from '../workflows/failures';
import type { InboundMessageInput } from '../workflows/inbound/contract';
import type { OptOutInput } from '../workflows/optout/contract';

export interface OptOutDeps {
  store: Store;
  businesses: BusinessRegistry;
}

export function createOptOutActivities({ store, businesses }: OptOutDeps) {
  /**
   * Blocks the contact first (the send gate reads that flag), then writes one ledger event per category.
   * Event ids derive from the opt-out id, so a retry writes nothing twice.
   */
  async function recordOptOut(input: OptOutInput & { optOutId: string }): Promise<{ categories: string[]; allCategories: boolean }> {
    const business = businesses.get(input.businessId);
    if (!business) throw ApplicationFailure.create({ type: FailureType.UnknownBusiness, message: `unknown business "${input.businessId}"`, nonRetryable: true });
    const all = business.categories.map((c) => c.id);
    const categories = input.categories?.length ? input.categories.filter((c) => all.includes(c)) : all;
    const allCategories = categories.length === all.length;
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

  return { recordOptOut, recordInbound };
}

export type OptOutActivities = ReturnType<typeof createOptOutActivities>;
