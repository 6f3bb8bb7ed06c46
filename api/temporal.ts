import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { grantNewContactsUpdate, releaseNewContactsUpdate, WHATSAPP_TIER_WORKFLOW_TYPE, whatsappTierWorkflowId, type TierGrant, type TierGrantRequest, type WhatsappTierInput } from '../workflows/campaign/tier-contract';
import { OptinBusiness } from '../workflows/search-attributes';

/**
 * Starts a workflow whose id is a business key. Returns started=false, not an error, when the key is
 * already taken: a repeated webhook delivery or a duplicate start is a no-op by design.
 */
export async function startOnce(client: Client, workflowType: string, options: WorkflowStartOptions): Promise<{ started: boolean; runId?: string }> {
  try {
    const handle = await client.workflow.start(workflowType, options);
    return { started: true, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
    throw err;
  }
}

/** Signals a workflow run; a run that has already ended is not an error for a webhook. */
export async function signalIfRunning(client: Client, workflowId: string, runId: string | undefined, signal: string, arg: unknown): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId, runId).signal(signal, arg);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    const e = err as { code?: number; message?: string };
    if (/already completed|not found/i.test(e.message ?? '')) return false;
    throw err;
  }
}

/**
 * Asks the business's WhatsApp tier workflow for up to `request.wanted` new contacts, starting the
 * workflow with the first request of the business (update-with-start). The request id is the
 * update id and the workflow remembers it: a retry gets its first answer back, not a second grant.
 */
export async function grantWhatsappTier(client: Client, taskQueue: string, businessId: string, request: TierGrantRequest): Promise<TierGrant> {
  const input: WhatsappTierInput = { businessId };
  return client.workflow.executeUpdateWithStart(grantNewContactsUpdate, {
    args: [request],
    updateId: `grant.${request.requestId}`,
    startWorkflowOperation: new WithStartWorkflowOperation(WHATSAPP_TIER_WORKFLOW_TYPE, {
      workflowId: whatsappTierWorkflowId(businessId),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: new TypedSearchAttributes([{ key: OptinBusiness, value: businessId }]),
    }),
  });
}

/** Gives back grants of a request that started no journey. */
export async function releaseWhatsappTier(client: Client, businessId: string, requestId: string, unused: number): Promise<void> {
  try {
    await client.workflow.getHandle(whatsappTierWorkflowId(businessId)).executeUpdate(releaseNewContactsUpdate, { args: [{ requestId, unused }], updateId: `release.${requestId}` });
  } catch (err) {
    // The tier workflow ended (two windows without a request): its grants, these too, have expired.
    if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) return;
    throw err;
  }
}
