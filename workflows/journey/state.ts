import type { SendResult } from '../../activities/channel';
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
