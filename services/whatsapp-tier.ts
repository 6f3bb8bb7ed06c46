import { WithStartWorkflowOperation } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Business } from '../domain/business';
import {
  grantNewContactsUpdate,
  releaseNewContactsUpdate,
  whatsappTierWorkflowId,
  whatsappTierWorkflowRef,
  type TierGrant,
  type TierGrantRequest,
  type WhatsappTierInput,
} from '../workflows/campaign/tier-contract';
import { OptinBusiness } from '../workflows/search-attributes';
import { WhatsappTierUsedUpError } from './errors';
import { isClosedWorkflow, within, type TemporalAccess } from './temporal';

/** How long a journey start waits for the business's tier workflow to answer (it needs a worker). */
const TIER_DEADLINE_MS = 10_000;
/** Request ids asked in turn when earlier ones were refused (see drawWhatsappTier); then one per attempt. */
const MAX_TIER_REQUEST_IDS = 10;

/**
 * Asks the business's WhatsApp tier workflow for up to `request.wanted` new contacts, starting the
 * workflow with the first request of the business (update-with-start). The request id is the
 * update id and the workflow remembers it: a retry gets its first answer back, not a second grant.
 */
export async function grantWhatsappTier(t: TemporalAccess, businessId: string, request: TierGrantRequest): Promise<TierGrant> {
  const input: WhatsappTierInput = { businessId };
  return t.client.workflow.executeUpdateWithStart(grantNewContactsUpdate, {
    args: [request],
    updateId: `grant.${request.requestId}`,
    startWorkflowOperation: new WithStartWorkflowOperation(whatsappTierWorkflowRef.type, {
      workflowId: whatsappTierWorkflowId(businessId),
      taskQueue: t.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: new TypedSearchAttributes([{ key: OptinBusiness, value: businessId }]),
    }),
  });
}

/** Gives back grants of a request that started no journey. */
export async function releaseWhatsappTier(t: TemporalAccess, businessId: string, requestId: string, unused: number): Promise<void> {
  try {
    await t.client.workflow.getHandle(whatsappTierWorkflowId(businessId)).executeUpdate(releaseNewContactsUpdate, { args: [{ requestId, unused }], updateId: `release.${requestId}` });
  } catch (err) {
    // The tier workflow ended (two windows without a request): its grants, these too, have expired.
    if (isClosedWorkflow(err)) return;
    throw err;
  }
}

/**
 * Takes one grant from the business's tier for the journey about to start as workflowId after
 * previousRunId. The request id names that journey, so a retried start (or two at once) whose journey
 * did not start gets the same grant back. A refusal is remembered under its id too, so a start retried
 * after Retry-After asks under the journey's next id.
 */
export async function drawWhatsappTier(t: TemporalAccess, business: Business, workflowId: string, previousRunId: string | undefined, campaignId: string | undefined): Promise<void> {
  const base = `${workflowId}.after.${previousRunId ?? 'none'}`;
  const limit = business.sending.whatsappTier;
  for (let n = 0; ; n++) {
    const requestId = n === 0 ? base : n < MAX_TIER_REQUEST_IDS ? `${base}.${n}` : `${base}.at.${Date.now()}`;
    const grant = await within(t.client, TIER_DEADLINE_MS, 'the WhatsApp tier of the business', () => grantWhatsappTier(t, business.id, { requestId, campaignId: campaignId ?? '', wanted: 1, limit }));
    if (grant.granted > 0) return;
    // Temporal (by update id) and the tier workflow (by request id) answer a repeated request as before:
    // a refusal whose budget has freed up since, or that finds room now, was an earlier start's.
    const earlierRefusal = grant.used < grant.limit || (grant.nextFreeAt !== undefined && grant.nextFreeAt <= Date.now());
    if (earlierRefusal) continue;
    throw new WhatsappTierUsedUpError(business, grant.used, grant.nextFreeAt ?? Date.now() + 60_000);
  }
}
