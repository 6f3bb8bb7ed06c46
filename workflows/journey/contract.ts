import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { HonourAndConfirmInput } from '../../activities/optout-confirm';
import type { LedgerActor } from '../../domain/access';
import type { Channel } from '../../domain/business';
import { defineWorkflowRef } from '../workflow-ref';

/** The journey's public surface: what the API and other workflows may import. */

// Plain types, no schemas: the API validates with zod (api/schemas.ts), and zod stays out of the workflow bundle.

export interface JourneyStep {
  channel: Channel;
  /** A positive whole number of milliseconds. */
  waitForMs: number;
  remindAfterMs: number[];
}

export interface JourneyContact {
  phone: string;
  email?: string;
  locale?: string;
  timezone?: string;
  name?: string;
}

export interface JourneyInput {
  businessId: string;
  contactId: string;
  contact: JourneyContact;
  /** At least one. */
  categories: string[];
  /** At least one step. */
  plan: JourneyStep[];
  source?: { kind: string; reference?: string; evidence?: Record<string, unknown> };
  campaignId?: string;
  /** The campaign row (0-based) it was started for: its outcome is counted under it (store/campaign-outcomes.ts). */
  campaignRow?: number;
  requestedAt: string;
  /** The key that asked; runs started before keys had ids have none. */
  actor?: LedgerActor;
}

export const JOURNEY_STATUSES = ['active', 'confirmed', 'declined', 'expired', 'opted_out', 'cancelled'] as const;
export type JourneyStatus = (typeof JOURNEY_STATUSES)[number];

export type AnswerDecision = 'confirm' | 'decline' | 'opt_out' | 'other';

/** What the contact did, as delivered by a webhook or the hosted page. */
export interface ContactAnswer {
  decision: AnswerDecision;
  channel: 'sms' | 'whatsapp' | 'email' | 'ivr';
  method: 'sms_reply' | 'whatsapp_reply' | 'whatsapp_button' | 'email_form' | 'ivr_keypress';
  receivedAt: string;
  text?: string;
  providerId?: string;
  /** Categories the contact kept (e-mail form); absent means all requested. */
  categories?: string[];
  /** Raw inbound payload or form post, stored as proof. */
  payload: Record<string, unknown>;
}

/** Delivery statuses that mean the message or call did not reach the contact: the only ones a journey acts on. */
export const FAILED_DELIVERY_STATUSES: ReadonlySet<string> = new Set(['failed', 'undelivered', 'no-answer', 'busy', 'canceled']);

export interface ProviderStatusEvent {
  providerId: string;
  status: string;
  errorCode?: number;
  receivedAt: string;
}

export interface JourneyEvent {
  at: string;
  direction: 'sent' | 'received' | 'note';
  kind: string;
  channel?: string;
  step?: number;
  providerId?: string;
  detail?: string;
}

export interface JourneyState {
  journeyId: string;
  businessId: string;
  contactId: string;
  campaignId?: string;
  campaignRow?: number;
  categories: string[];
  status: JourneyStatus;
  stepIndex: number;
  channel: string;
  attempts: number;
  nextDeadline?: string;
  /**
   * While an opt-in request waits for the business's quiet hours or frequency cap: until when and
   * why. Absent once it went (or the journey ended first).
   */
  deferred?: { until: string; reason: 'quiet_hours' | 'frequency_cap'; step: number; purpose: 'request' | 'reminder' };
  outcome?: { status: JourneyStatus; reason?: string; categories?: string[]; at: string };
  events: JourneyEvent[];
}

export interface FormSubmission {
  tokenId: string;
  decision: 'confirm' | 'decline';
  categories: string[];
  shownText: string;
  ip: string;
  userAgent: string;
  submittedAt: string;
}

export type FormSubmissionResult = { accepted: true; status: JourneyStatus } | { accepted: false; reason: string };

export const contactAnsweredSignal = defineSignal<[ContactAnswer]>('contactAnswered');
export const providerStatusSignal = defineSignal<[ProviderStatusEvent]>('providerStatus');
export const ivrNoAnswerSignal = defineSignal<[{ callSid: string; at: string }]>('ivrNoAnswer');
/**
 * An opt-out ends the journey. `carried`: the opt-out's own step (block, ledger, its one confirmation),
 * which a journey of JOURNEY_WORKFLOW_TYPE carries out itself, so the opt-out needs no workflow of its
 * own; sent only to a journey whose record says it carries opt-outs (services/optout-carry.ts).
 */
export interface OptedOutEvent {
  optOutId: string;
  at: string;
  carried?: HonourAndConfirmInput;
}
export const optedOutSignal = defineSignal<[OptedOutEvent]>('optedOut');
export const journeyStateQuery = defineQuery<JourneyState>('journeyState');
export const cancelJourneyUpdate = defineUpdate<JourneyState, [{ reason?: string }]>('cancelJourney');
export const submitFormUpdate = defineUpdate<FormSubmissionResult, [FormSubmission]>('submitForm');

/** The type every new journey starts as (./workflow.ts: runs started before it keep their older types). */
export const JOURNEY_WORKFLOW_TYPE = 'journeyWorkflowV5';
export const journeyWorkflowRef = defineWorkflowRef<JourneyInput, JourneyState>(JOURNEY_WORKFLOW_TYPE);

/** One running journey per business + contact: the workflow id is that business key. */
export function journeyWorkflowId(businessId: string, contactId: string): string {
  return `journey.${businessId}.${contactId}`;
}

/** A journey id names one run: the business key plus the first run's id. */
export function journeyIdOf(workflowId: string, runId: string): string {
  return `${workflowId.replace(/^journey\./, '')}.${runId}`;
}

export function parseJourneyId(journeyId: string): { workflowId: string; runId: string } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62})\.(c_[0-9a-f]{24})\.([0-9a-f-]{36})$/.exec(journeyId);
  if (!m) return undefined;
  return { workflowId: journeyWorkflowId(m[1], m[2]), runId: m[3] };
}
