import { contactActor, type LedgerActor } from '../domain/access';
import type { BusinessRegistry } from '../domain/business';
import { categoryLabels } from '../domain/business';
import type { AppendOptions } from '../store/ledger-append';
import type { Store } from '../store/models';
import { appendConsentEvent, appendConsentEvents, consentEvent, recordConfirmationSent as recordConfirmationEvents, setCurrentConsents, type ConfirmationSent } from '../store/queries';
import { recordJourneyBegin, recordJourneyEnd, type JourneyBegin } from '../store/journeys';
import type { ContactAnswer, JourneyInput, JourneyState } from '../workflows/journey/contract';
import { requireBusiness } from './business';

export interface ConsentDeps {
  store: Store;
  businesses: BusinessRegistry;
}

export interface RequestProof {
  channel: string;
  shown?: string;
  providerId?: string;
  mode?: string;
  requestedAt: string;
}

/** The journey run a record belongs to and the contact it is about. */
export interface JourneyRecordRef {
  journeyId: string;
  workflowId: string;
  runId: string;
  businessId: string;
  contactId: string;
  phone: string;
}

/** Who asked for the journey, as it was started; beginJourney stored the same in the journey's document. */
export interface JourneyOrigin {
  source?: JourneyInput['source'];
  campaignId?: string | null;
  actor?: LedgerActor;
}

export interface RecordAnswerInput extends JourneyRecordRef {
  categories: string[];
  answer: ContactAnswer;
  request: RequestProof;
  /** Absent when a run scheduled this step before journeys passed it; the journey's document has it then. */
  origin?: JourneyOrigin;
}

export function createConsentActivities({ store, businesses }: ConsentDeps) {
  /** Which provider carried a WhatsApp request and which approved template it used (name, language): part of the proof. */
  async function requestSentAs(input: RecordAnswerInput) {
    if (input.request.channel !== 'whatsapp' || !input.request.providerId) return undefined;
    const row = await store.outbox.findOne({ businessId: input.businessId, contactId: input.contactId, providerId: input.request.providerId }).lean();
    return row ? { provider: row.provider ?? 'twilio', template: row.template ? { name: row.template.name, language: row.template.language } : undefined } : undefined;
  }

  async function beginJourney(input: JourneyBegin): Promise<void> {
    await recordJourneyBegin(store, input);
  }

  /**
   * Writes one opted_in ledger event and the current consent per confirmed category. `ledger` is for a
   * caller in this process that appends the confirmation's events straight after (confirmJourney).
   */
  async function recordConsent(input: RecordAnswerInput, ledger?: AppendOptions): Promise<{ eventIds: string[]; categories: string[] }> {
    const business = requireBusiness(businesses, input.businessId);
    const confirmed = (input.answer.categories ?? input.categories).filter((c) => input.categories.includes(c));
    const recordedAt = new Date();
    // Who asked (campaign, agent and ticket, web form) is part of the proof; the run passes it, so the
    // journey's document is read only for a step scheduled before it did.
    const origin: JourneyOrigin | null = input.origin ?? (await store.journeys.findById(input.journeyId).lean());
    const sentAs = await requestSentAs(input);
    const eventIdOf = (category: string) => `${input.journeyId}:${category}:opted_in`;
    const eventIds = confirmed.map(eventIdOf);
    // All categories in one insert and one bulk update: on FerretDB each round trip is a write of its own.
    const events = confirmed.map((category) =>
        consentEvent(input, eventIdOf(category), category, 'opted_in', new Date(input.answer.receivedAt), {
          method: input.answer.method,
          channel: input.answer.channel,
          requestChannel: input.request.channel,
          shown: input.request.shown,
          requestMode: input.request.mode,
          businessName: business.name,
          categoryLabels: categoryLabels(business, input.categories),
          confirmedCategories: confirmed,
          requestedAt: input.request.requestedAt,
          answeredAt: input.answer.receivedAt,
          recordedAt: recordedAt.toISOString(),
          requestProviderId: input.request.providerId,
          requestProvider: sentAs?.provider,
          requestTemplate: sentAs?.template,
          answerProviderId: input.answer.providerId,
          answerText: input.answer.text,
          inbound: input.answer.payload,
          journeyId: input.journeyId,
          source: origin?.source,
          campaignId: origin?.campaignId,
          workflowId: input.workflowId,
          runId: input.runId,
        }, contactActor(input.answer.channel, origin?.actor)),
    );
    await appendConsentEvents(store, events, ledger);
    await setCurrentConsents(
      store,
      confirmed.map((category, i) => ({
        businessId: input.businessId,
        contactId: input.contactId,
        phone: input.phone,
        category,
        status: 'opted_in',
        since: new Date(input.answer.receivedAt),
        eventId: eventIdOf(category),
        journeyId: input.journeyId,
        proof: events[i].proof,
      })),
    );
    return { eventIds, categories: confirmed };
  }

  async function recordDecline(input: RecordAnswerInput): Promise<void> {
    const business = requireBusiness(businesses, input.businessId);
    await appendConsentEvent(
      store,
      consentEvent(input, `${input.journeyId}:declined`, input.categories.join(','), 'declined', new Date(input.answer.receivedAt), {
        method: input.answer.method,
        channel: input.answer.channel,
        shown: input.request.shown,
        businessName: business.name,
        categories: input.categories,
        requestedAt: input.request.requestedAt,
        answeredAt: input.answer.receivedAt,
        recordedAt: new Date().toISOString(),
        requestProviderId: input.request.providerId,
        answerProviderId: input.answer.providerId,
        answerText: input.answer.text,
        inbound: input.answer.payload,
        journeyId: input.journeyId,
        runId: input.runId,
      }, contactActor(input.answer.channel)),
    );
  }

  async function recordConfirmationSent(input: ConfirmationSent & { journeyId: string }): Promise<void> {
    await recordConfirmationEvents(store, input.journeyId, { journeyId: input.journeyId }, input);
  }

  /** ended: this call ended the journey (false for a repeat of the step). */
  async function finishJourney(state: JourneyState): Promise<{ ended: boolean }> {
    return { ended: await recordJourneyEnd(store, state) };
  }

  return { beginJourney, recordConsent, recordDecline, recordConfirmationSent, finishJourney };
}

export type ConsentActivities = ReturnType<typeof createConsentActivities>;
