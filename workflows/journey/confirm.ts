import { log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ConfirmJourneyActivities } from '../../activities/confirm-journey';
import type { ConsentActivities, RecordAnswerInput } from '../../activities/consent';
import { LOCAL_SEND_ACTIVITY_OPTIONS, stepGaveUp, SEND_ACTIVITY_OPTIONS } from '../activity-options';
import type { JourneyState } from './contract';
import { confirmationInput, confirmOnWhatsApp, type JourneySendBase, type SettledJourney } from './run';
import { noteSent } from './state';

const asActivity = proxyActivities<ConfirmJourneyActivities>(SEND_ACTIVITY_OPTIONS);
const inTask = proxyLocalActivities<ConfirmJourneyActivities>(LOCAL_SEND_ACTIVITY_OPTIONS);

/** How a confirmed answer is recorded: one step as an activity, one step as a local activity in the signal's workflow task, or step by step. */
export type ConfirmSteps = 'activity' | 'local' | 'separate';

/**
 * Records a confirmed answer, confirms it on WhatsApp and says how the journey ended. In one step
 * (the confirmJourney activity, which also stores the journey's end; `local`: run in the workflow task
 * the answer woke), or as the store steps around the send. The one step retries as a send does, a bounded number of times; should it give up
 * (the store down for minutes), the separate steps take over, whose store writes retry without limit
 * and find whatever it had written already: a confirmed answer is never dropped.
 */
export async function recordConfirmed(state: JourneyState, base: JourneySendBase, record: RecordAnswerInput, steps: () => ConsentActivities, how: ConfirmSteps): Promise<SettledJourney> {
  if (how !== 'separate') {
    try {
      const done = await (how === 'local' ? inTask : asActivity).confirmJourney({ record, confirmation: confirmationInput(base, record.categories), state });
      noteSent(state, 'confirmation', 'whatsapp', done.confirmation);
      return { status: 'confirmed', categories: done.categories, storedAt: done.storedAt };
    } catch (err) {
      if (!stepGaveUp(err)) throw err;
      log.warn('confirming in one step failed; recording step by step', { error: err.cause?.message ?? err.message });
    }
  }
  const written = await steps().recordConsent(record);
  await confirmOnWhatsApp(state, base, written.categories, steps);
  return { status: 'confirmed', categories: written.categories };
}
