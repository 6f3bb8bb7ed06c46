import { condition, proxyActivities } from '@temporalio/workflow';
import type { ChannelActivities, SendInput, SendResult } from '../../activities/channel';
import { SEND_ACTIVITY_OPTIONS } from '../activity-options';
import type { JourneyState } from './contract';

const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

/**
 * Opt-in requests (the first of each step and every reminder) wait for the business's quiet hours and
 * frequency cap. Runs that began before it never asked the send activity to check, so their
 * histories have no deferral to replay.
 */
export const JOURNEY_QUIET_HOURS_PATCH = 'journey-quiet-hours';

export interface PolicedRequest {
  /** The send, built for each try: a deferral may lengthen how long its links must stay valid. */
  input: () => SendInput & { purpose: 'request' | 'reminder' };
  /** The journey no longer needs this request (decided, or its step failed): stop waiting. */
  stop: () => boolean;
  /** A request that could not go before this instant (epoch ms) is not sent at all: a reminder past its step's deadline. */
  notAfter?: number;
  /** Told when a deferral ends, before waiting for it. */
  onDeferred?: (until: number) => void;
  /** The send to ask with: the journey's own (a local activity in journeyWorkflowV4), the send activity otherwise. */
  via?: (input: SendInput) => Promise<SendResult>;
}

/**
 * Sends an opt-in request once quiet hours and the frequency cap allow. The send activity checks (no
 * extra activity when the request may go) and answers `deferred` instead of sending; the journey then
 * shows the deferral in its state, sleeps until it ends (an opt-out, a cancel or an answer still end
 * the journey at once) and asks again under the same idempotency key. Undefined: nothing was sent.
 */
export async function sendWhenAllowed(state: JourneyState, request: PolicedRequest): Promise<SendResult | undefined> {
  for (let tries = 0; ; tries++) {
    const input = request.input();
    // The first try wrote the journey's beginning; a later one has nothing to begin.
    const r = await (request.via ?? send)(tries === 0 ? input : { ...input, begin: undefined });
    if (r.outcome !== 'deferred' || !r.deferred) {
      state.deferred = undefined;
      return r;
    }
    const until = Date.parse(r.deferred.until);
    const step = input.step ?? state.stepIndex;
    state.events.push({ at: r.at, direction: 'note', kind: `deferred:${r.deferred.reason}`, channel: input.channel, step, detail: `${input.purpose} until ${r.deferred.until}` });
    if (request.notAfter !== undefined && until >= request.notAfter) {
      state.deferred = undefined;
      return undefined;
    }
    state.deferred = { until: r.deferred.until, reason: r.deferred.reason, step, purpose: input.purpose };
    request.onDeferred?.(until);
    await condition(request.stop, Math.max(1, until - Date.now()));
    if (request.stop()) {
      state.deferred = undefined;
      return undefined;
    }
  }
}
