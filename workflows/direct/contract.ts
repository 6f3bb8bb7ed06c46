import { defineQuery } from '@temporalio/workflow';
import type { LedgerActor } from '../../domain/access';
import { defineWorkflowRef } from '../workflow-ref';

/**
 * A direct consent: the contact already consented through an act we witnessed (a signed paper form,
 * a key pressed in the business's own IVR), so there is nothing to ask; we record it and confirm.
 */

export const DIRECT_CONSENT_METHODS = ['offline_document', 'ivr_keypress'] as const;
export type DirectConsentMethod = (typeof DIRECT_CONSENT_METHODS)[number];

export interface DirectConsentInput {
  /** The act's own id (`offline.<document hash>`, `ivr.<CallSid>`): the workflow id derives from it. */
  origin: string;
  businessId: string;
  contactId: string;
  phone: string;
  /** At least one. */
  categories: string[];
  method: DirectConsentMethod;
  channel: 'in_person' | 'ivr';
  /** When the contact acted (the signature date, the key press), which may be long before we hear of it. */
  consentedAt: string;
  receivedAt: string;
  /** Exactly what the contact was shown or told when they consented, when we know it. */
  shown?: string;
  evidence: Record<string, unknown>;
  source: { kind: string; reference?: string };
  /** Who recorded it: the key for a paper form; absent for the caller's own key press and for runs started before keys had ids. */
  actor?: LedgerActor;
}

export interface DirectConsentResult {
  /** Categories whose current consent is this act; a later opt-out keeps the others out. */
  categories: string[];
  superseded: string[];
  /** The contact had opted out of everything before this act, and may now be messaged again. */
  reallowed: boolean;
  confirmation?: { outcome: string; providerId?: string };
}

export const directConsentResultQuery = defineQuery<DirectConsentResult | undefined>('directConsentResult');
export const DIRECT_CONSENT_WORKFLOW_TYPE = 'directConsentWorkflow';
export const directConsentWorkflowRef = defineWorkflowRef<DirectConsentInput, DirectConsentResult>(DIRECT_CONSENT_WORKFLOW_TYPE);

export function directConsentWorkflowId(origin: string): string {
  return `direct.${origin}`;
}
