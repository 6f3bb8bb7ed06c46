import { condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities, SendInput } from '../../activities/channel';
import type { ConsentActivities } from '../../activities/consent';
import type { HonourAndConfirmInput } from '../../activities/optout-confirm';
import { proxyLocalStoreSteps, proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';
import { OptinStatus } from '../search-attributes';
import {
  cancelJourneyUpdate,
  contactAnsweredSignal,
  journeyIdOf,
  journeyStateQuery,
  optedOutSignal,
  providerStatusSignal,
  type ContactAnswer,
  type JourneyState,
  type ProviderStatusEvent,
} from './contract';
import { confirmationSent, noteSent, putOutcome, type JourneyOutcome } from './state';

export { noteSent };

/*
 * What every workflow that runs as a contact's journey shares (the journey itself and the in-thread
 * category choice): its ids, the query, signals and cancel update of ./contract.ts, the events it
 * notes and how it ends. Workflow code: each helper issues the same commands, in the same order, as
 * the code it replaced, so recorded histories replay.
 */

const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
/** The store steps of a run that may have scheduled them as activities (patched). */
export const consentSteps = proxyStoreSteps<ConsentActivities>();
/** The store steps as local activities, for code that never scheduled them otherwise. */
const localSteps = proxyLocalStoreSteps<ConsentActivities>();
export const localConsentSteps = (): ConsentActivities => localSteps;

/** A journey run's ids: the workflow id is the business key, the journey id names this run of it. */
export interface JourneyRun {
  workflowId: string;
  runId: string;
  journeyId: string;
}

export function currentJourneyRun(): JourneyRun {
  const info = workflowInfo();
  return { workflowId: info.workflowId, runId: info.firstExecutionRunId, journeyId: journeyIdOf(info.workflowId, info.firstExecutionRunId) };
}

/** What every send of a journey run carries; each send adds its channel, purpose and idempotency key. */
export type JourneySendBase = Omit<SendInput, 'idempotencyKey' | 'purpose' | 'channel'> & { workflowId: string; runId: string };

/** How a workflow running as a journey reacts to the contact, the provider, an opt-out and a cancel. */
export interface JourneyHooks {
  /** The journey has its outcome. */
  ended(): boolean;
  /** Nothing the contact does can change the outcome any more. */
  decided(): boolean;
  /** An answer that arrived while the journey was still open and undecided. */
  answered(answer: ContactAnswer): void;
  /** A status of a message, each once. */
  statusReported?(status: ProviderStatusEvent): void;
  optedOut(): void;
  /** An opt-out's step that came with its signal, whether or not the journey had ended (journeyWorkflowV5). */
  carried?(step: HonourAndConfirmInput): void;
  cancelled(reason: string | undefined): void;
}

/** Answers the journey state query and notes every answer and provider status the journey hears of. */
export function handleJourneyReports(state: JourneyState, hooks: JourneyHooks): void {
  setHandler(journeyStateQuery, () => state);

  // A reply reaches the journey straight from the webhook, and a provider may deliver a webhook twice:
  // the same message (provider id) is one answer. No recorded history holds a repeat, so replay is unchanged.
  const seenAnswers = new Set<string>();
  setHandler(contactAnsweredSignal, (a) => {
    if (a.providerId) {
      if (seenAnswers.has(a.providerId)) return;
      seenAnswers.add(a.providerId);
    }
    state.events.push({ at: a.receivedAt, direction: 'received', kind: a.method, channel: a.channel, providerId: a.providerId, detail: a.decision });
    if (hooks.ended() || hooks.decided()) return;
    hooks.answered(a);
  });

  // Twilio may deliver a status callback more than once; the journey notes each status of a message once.
  const seenStatuses = new Set<string>();
  setHandler(providerStatusSignal, (s) => {
    const seen = `${s.providerId}/${s.status}`;
    if (seenStatuses.has(seen)) return;
    seenStatuses.add(seen);
    state.events.push({ at: s.receivedAt, direction: 'note', kind: `status:${s.status}`, providerId: s.providerId, detail: s.errorCode ? `error ${s.errorCode}` : undefined });
    hooks.statusReported?.(s);
  });
}

/** An opt-out (from the opt-out workflow) and a cancel (from the API) end the journey unless it already ended. */
export function handleJourneyEndings(state: JourneyState, hooks: JourneyHooks): void {
  setHandler(optedOutSignal, (e) => {
    state.events.push({ at: e.at, direction: 'received', kind: 'opted_out', detail: e.optOutId });
    if (!hooks.ended()) hooks.optedOut();
    if (e.carried) hooks.carried?.(e.carried);
  });

  setHandler(
    cancelJourneyUpdate,
    async ({ reason }) => {
      if (!hooks.decided()) hooks.cancelled(reason);
      await condition(hooks.ended);
      return state;
    },
    {
      validator: (_request: { reason?: string }) => {
        if (hooks.ended()) throw new Error(`journey already ended as ${state.status}`);
      },
    },
  );
}

/** A journey run's one WhatsApp confirmation: the same key however it is sent, so it goes once. */
export function confirmationInput(base: JourneySendBase, categories: string[]): SendInput {
  return { ...base, categories, channel: 'whatsapp', purpose: 'confirmation', idempotencyKey: `${base.workflowId}/${base.runId}/confirmation` };
}

/** Confirms the categories just written on WhatsApp, whatever channel asked, and adds the confirmation to their proof. */
export async function confirmOnWhatsApp(state: JourneyState, base: JourneySendBase, categories: string[], steps: () => ConsentActivities): Promise<void> {
  const confirmation = await send(confirmationInput(base, categories));
  noteSent(state, 'confirmation', 'whatsapp', confirmation);
  await steps().recordConfirmationSent(confirmationSent(state.journeyId, base, categories, confirmation));
}

export interface SettledJourney extends JourneyOutcome {
  /** The step that recorded the outcome also stored the journey's end, at this time (confirmJourney). */
  storedAt?: string;
}

/**
 * Ends the journey. A cancel, then an opt-out, wins over anything the contact answered; otherwise
 * `recordAnswer` records what the contact decided and says how the journey ended (expired when it
 * returns nothing). The outcome then goes on the state, to ops (OptinStatus) and to the store, unless
 * the step that recorded it stored the end already.
 */
export async function settleJourney(
  state: JourneyState,
  steps: () => ConsentActivities,
  interrupted: { cancelled?: { reason?: string }; optedOut: boolean },
  recordAnswer: () => Promise<SettledJourney | undefined>,
): Promise<void> {
  let outcome: SettledJourney;
  if (interrupted.cancelled) outcome = { status: 'cancelled', reason: interrupted.cancelled.reason };
  else if (interrupted.optedOut) outcome = { status: 'opted_out' };
  else outcome = (await recordAnswer()) ?? { status: 'expired' };

  const { storedAt, ...ending } = outcome;
  putOutcome(state, ending, storedAt ?? new Date(Date.now()).toISOString());
  upsertSearchAttributes([{ key: OptinStatus, value: outcome.status }]);
  if (!storedAt) await steps().finishJourney(state);
}
