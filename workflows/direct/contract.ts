import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { ledgerActorSchema } from '../../domain/access';
import { defineWorkflowRef } from '../workflow-ref';

/**
 * A direct consent: the contact already consented through an act we witnessed (a signed paper form,
 * a key pressed in the business's own IVR), so there is nothing to ask; we record it and confirm.
 */

export const DIRECT_CONSENT_METHODS = ['offline_document', 'ivr_keypress'] as const;
export type DirectConsentMethod = (typeof DIRECT_CONSENT_METHODS)[number];

export const directConsentInputSchema = z.object({
  /** The act's own id (`offline.<document hash>`, `ivr.<CallSid>`): the workflow id derives from it. */
  origin: z.string().min(1),
  businessId: z.string(),
  contactId: z.string(),
  phone: z.string(),
  categories: z.array(z.string()).min(1),
  method: z.enum(DIRECT_CONSENT_METHODS),
  channel: z.enum(['in_person', 'ivr']),
  /** When the contact acted (the signature date, the key press), which may be long before we hear of it. */
  consentedAt: z.string(),
  receivedAt: z.string(),
  /** Exactly what the contact was shown or told when they consented, when we know it. */
  shown: z.string().optional(),
  evidence: z.record(z.string(), z.unknown()),
  source: z.object({ kind: z.string(), reference: z.string().optional() }),
  /** Who recorded it: the key for a paper form; absent for the caller's own key press and for runs started before keys had ids. */
  actor: ledgerActorSchema.optional(),
});
export type DirectConsentInput = z.infer<typeof directConsentInputSchema>;

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
