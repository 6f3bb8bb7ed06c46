import { defineQuery } from '@temporalio/workflow';
import type { LedgerActor } from '../../domain/access';
import { defineWorkflowRef } from '../workflow-ref';

export const OPTOUT_CHANNELS = ['sms', 'whatsapp', 'ivr', 'email', 'web', 'api', 'agent', 'provider'] as const;
export type OptOutChannel = (typeof OPTOUT_CHANNELS)[number];

export interface OptOutInput {
  /** The origin's own id (inbound MessageSid, CallSid, request id): the workflow id derives from it. */
  origin: string;
  businessId: string;
  contactId: string;
  phone: string;
  channel: OptOutChannel;
  /** Absent means every category of the business. */
  categories?: string[];
  reason: string;
  source: { kind: string; reference?: string };
  receivedAt: string;
  text?: string;
  /** For a keyword: the word or phrase that made the text an opt-out, and its language, as proof of why. */
  keyword?: { matched?: string; language?: string };
  /** What arrived (a webhook's form, a page's post), bounded and with storable field names; runs started before inputs were bounded carry it raw. */
  payload: Record<string, unknown>;
  /** The stored whole of a payload that had to be cut (store/payloads.ts); the ledger's proof reads it from there. */
  payloadRef?: string;
  /** Where the single confirmation goes; none when the channel confirms by itself (voice, web page). */
  confirmOn?: 'sms' | 'whatsapp';
  /** The key (with agent and ticket) that asked for it; absent when the contact or the carrier did, and in runs started before keys had ids. */
  actor?: LedgerActor;
}

export interface OptOutResult {
  categories: string[];
  allCategories: boolean;
  /**
   * Whether the contact's journey was running when the opt-out told it to end. optOutWorkflowV5 and V6 ask
   * from its activity, after the acknowledgement's own signal: a journey that signal has already ended
   * reads false there (the journey's history holds the one signal either way).
   */
  journeyEnded: boolean;
  confirmation?: { outcome: string; providerId?: string };
}

/** What the opt-out's first activity did before anything else; blocked: the send gate now refuses this contact. */
export interface ContactBlocked {
  categories: string[];
  allCategories: boolean;
  /** An opt-out of every category: the contact is blocked and no send that passed the gate is still at the provider. */
  blocked: boolean;
  at: string;
}

export const optOutResultQuery = defineQuery<OptOutResult | undefined>('optOutResult');
/** The type every new opt-out starts as (./workflow.ts: runs started before it keep their older types). */
export const OPTOUT_WORKFLOW_TYPE = 'optOutWorkflowV6';
export const optOutWorkflowRef = defineWorkflowRef<OptOutInput, OptOutResult>(OPTOUT_WORKFLOW_TYPE);

export function optOutWorkflowId(origin: string): string {
  return `optout.${origin}`;
}

/**
 * The opt-out's one confirmation, whichever step sends it (its workflow, or the journey that carries
 * it, workflows/journey/carried-optouts.ts): the same key either way, so it goes once.
 */
export function optOutConfirmation(input: OptOutInput, optOutId: string, channel: 'sms' | 'whatsapp') {
  return {
    idempotencyKey: `${optOutId}/confirmation`,
    purpose: 'optout_confirmation' as const,
    channel,
    businessId: input.businessId,
    contactId: input.contactId,
    phone: input.phone,
  };
}
