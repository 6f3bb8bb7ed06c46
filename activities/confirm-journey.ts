import type { JourneyState } from '../workflows/journey/contract';
import { confirmationSent, noteSent, putOutcome } from '../workflows/journey/state';
import type { ChannelActivities, SendInput, SendResult } from './channel';
import type { ConsentActivities, RecordAnswerInput } from './consent';

export interface ConfirmJourneyInput {
  record: RecordAnswerInput;
  /** The WhatsApp confirmation; its categories become the ones the record wrote. */
  confirmation: SendInput;
  /** The journey as it stands before the confirmation, to be stored as it ends. */
  state: JourneyState;
}

export interface ConfirmJourneyResult {
  categories: string[];
  confirmation: SendResult;
  /** When the journey's end was stored: its outcome's time. */
  storedAt: string;
}

type Steps = Pick<ChannelActivities, 'send'> & Pick<ConsentActivities, 'recordConsent' | 'recordConfirmationSent' | 'finishJourney'>;

/**
 * A confirmed journey's last steps in one activity: the consent with its proof, then the WhatsApp
 * confirmation, its record, and the journey's end. As local activities around the send they cost a
 * workflow task with markers and three markers per journey. Every step is idempotent (event ids from
 * the journey, the send's outbox claim), so a retry after any of them repeats nothing; the outcome's
 * time is the confirmation's, which a retry reads back from the outbox.
 */
export function createConfirmJourneyActivity(steps: Steps) {
  async function confirmJourney(input: ConfirmJourneyInput): Promise<ConfirmJourneyResult> {
    const { record } = input;
    // The ledger's head hint is written once, with the confirmation's events below.
    const written = await steps.recordConsent(record, { headHint: 'with_next' });
    const confirmation = await steps.send({ ...input.confirmation, categories: written.categories });
    await steps.recordConfirmationSent(confirmationSent(record.journeyId, record, written.categories, confirmation));
    const state = structuredClone(input.state);
    noteSent(state, 'confirmation', 'whatsapp', confirmation);
    putOutcome(state, { status: 'confirmed', categories: written.categories }, confirmation.at);
    // As a payload carries it to the step on its own: keys left undefined are dropped, not stored as null.
    await steps.finishJourney(JSON.parse(JSON.stringify(state)) as JourneyState);
    return { categories: written.categories, confirmation, storedAt: confirmation.at };
  }
  return { confirmJourney };
}

export type ConfirmJourneyActivities = ReturnType<typeof createConfirmJourneyActivity>;
