import { contactActor } from '../domain/access';
import { categoryLabels, type BusinessRegistry } from '../domain/business';
import type { OfferedCategory } from '../domain/category-choice';
import type { Store } from '../store/models';
import { appendConsentEvent, consentEvent, setCurrentConsent, upsertContact } from '../store/queries';
import { IN_THREAD_SOURCE_KIND, type CategoryChoiceInput } from '../workflows/inthread/contract';
import type { ContactAnswer } from '../workflows/journey/contract';
import { requireBusiness } from './business';
import type { JourneyRecordRef, RequestProof } from './consent';

export interface InThreadDeps {
  store: Store;
  businesses: BusinessRegistry;
}

export interface RecordInThreadChoiceInput extends JourneyRecordRef {
  channel: CategoryChoiceInput['channel'];
  start: CategoryChoiceInput['start'];
  resumedMessaging?: boolean;
  /** Every category the question listed, in its order. */
  offered: string[];
  chosen: string[];
  chosenAll: boolean;
  question: RequestProof;
  answer: ContactAnswer;
  buttonPayload?: string;
}

export function createInThreadActivities({ store, businesses }: InThreadDeps) {
  /** The categories the question lists, in the business's order: the numbers of the list derive from it. */
  async function offerCategories({ businessId }: { businessId: string }): Promise<{ businessName: string; categories: OfferedCategory[] }> {
    const business = requireBusiness(businesses, businessId);
    return { businessName: business.name, categories: business.categories.map((c) => ({ id: c.id, label: c.label })) };
  }

  /**
   * One opted_in ledger event per chosen category (`<journeyId>:<category>:opted_in`, so the shared
   * confirmation record links to it) with the whole exchange as proof: the contact's START, the question
   * exactly as shown, the reply. The current consent moves forward only where this is the newest word.
   */
  async function recordInThreadChoice(input: RecordInThreadChoiceInput): Promise<{ eventIds: string[]; categories: string[] }> {
    const business = requireBusiness(businesses, input.businessId);
    const chosen = input.chosen.filter((c) => input.offered.includes(c));
    const answeredAt = new Date(input.answer.receivedAt);
    await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
    const eventIds: string[] = [];
    for (const category of chosen) {
      const eventId = `${input.journeyId}:${category}:opted_in`;
      eventIds.push(eventId);
      const event = consentEvent(input, eventId, category, 'opted_in', answeredAt, {
          method: 'in_thread_choice',
          channel: input.channel,
          businessName: business.name,
          shown: input.question.shown,
          requestMode: input.question.mode,
          requestProviderId: input.question.providerId,
          requestedAt: input.question.requestedAt,
          offeredCategories: input.offered,
          categoryLabels: categoryLabels(business, input.offered),
          confirmedCategories: chosen,
          chosenAll: input.chosenAll,
          start: { providerId: input.start.messageSid, text: input.start.text, receivedAt: input.start.receivedAt, inbound: input.start.payload },
          resumedMessaging: input.resumedMessaging ?? false,
          answerMethod: input.answer.method,
          answerText: input.answer.text,
          answerButtonPayload: input.buttonPayload,
          answerProviderId: input.answer.providerId,
          answeredAt: input.answer.receivedAt,
          inbound: input.answer.payload,
          recordedAt: new Date().toISOString(),
          source: { kind: IN_THREAD_SOURCE_KIND, reference: input.start.messageSid },
          journeyId: input.journeyId,
          workflowId: input.workflowId,
          runId: input.runId,
        }, contactActor(input.channel));
      await appendConsentEvent(store, event);
      await setCurrentConsent(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, category, status: 'opted_in', since: answeredAt, eventId, journeyId: input.journeyId, proof: event.proof });
    }
    return { eventIds, categories: chosen };
  }

  return { offerCategories, recordInThreadChoice };
}

export type InThreadActivities = ReturnType<typeof createInThreadActivities>;
