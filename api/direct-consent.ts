import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { DIRECT_CONSENT_WORKFLOW_TYPE, directConsentWorkflowId, type DirectConsentInput } from '../workflows/direct/contract';
import { OptinBusiness, OptinContact } from '../workflows/search-attributes';
import { startOnce } from './temporal';

/**
 * Starts the direct consent of an act we witnessed (a signed document, a key press). The act's origin
 * is the workflow id, so the same act reported again starts nothing (started is false).
 */
export async function startDirectConsent(temporal: { client: Client; taskQueue: string }, input: DirectConsentInput): Promise<{ directConsentId: string; started: boolean }> {
  const directConsentId = directConsentWorkflowId(input.origin);
  const r = await startOnce(temporal.client, DIRECT_CONSENT_WORKFLOW_TYPE, {
    workflowId: directConsentId,
    taskQueue: temporal.taskQueue,
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: new TypedSearchAttributes([
      { key: OptinBusiness, value: input.businessId },
      { key: OptinContact, value: input.contactId },
    ]),
  });
  return { directConsentId, started: r.started };
}
