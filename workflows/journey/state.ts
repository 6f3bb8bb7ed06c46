import type { SendResult } from '../../activities/channel';
import type { ConfirmationSent } from '../../store/queries';
import type { JourneyState, JourneyStatus } from './contract';

/*
 * How a journey's state changes as it sends and ends. Pure functions, imported by the workflow and by
 * the confirmJourney activity, which stores the final state itself: both must build the same state.
 */

export interface JourneyOutcome {
  status: JourneyStatus;
  reason?: string;
  categories?: string[];
}

export function noteSent(state: JourneyState, purpose: string, channel: string, r: SendResult): void {
  state.events.push({ at: r.at, direction: 'sent', kind: `${purpose}:${r.outcome}`, channel, step: state.stepIndex, providerId: r.providerId, detail: r.errorCode ? `error ${r.errorCode}` : (r.mode ?? r.reason) });
}

export function putOutcome(state: JourneyState, outcome: JourneyOutcome, at: string): void {
  state.status = outcome.status;
  state.outcome = { status: outcome.status, reason: outcome.reason, categories: outcome.categories, at };
}

/** What a journey's WhatsApp confirmation adds to the proof of the categories it confirms. */
export function confirmationSent(journeyId: string, to: { businessId: string; contactId: string; phone: string }, categories: string[], r: SendResult): ConfirmationSent & { journeyId: string } {
  return { journeyId, businessId: to.businessId, contactId: to.contactId, phone: to.phone, categories, providerId: r.providerId, outcome: r.outcome, shown: r.shown, at: r.at };
}
