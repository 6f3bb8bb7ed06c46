import { getExternalWorkflowHandle, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import { journeyWorkflowId, optedOutSignal } from '../journey/contract';
import { optOutResultQuery, type OptOutInput, type OptOutResult } from './contract';

const store = proxyActivities<OptOutActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});
const { send } = proxyActivities<ChannelActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 10 },
});

/** One opt-out request: record it, end the contact's journey, confirm once on the channel it came from. */
export async function optOutWorkflow(input: OptOutInput): Promise<OptOutResult> {
  let result: OptOutResult | undefined = undefined;
  setHandler(optOutResultQuery, () => result);

  let journeyEnded = false;
  try {
    await getExternalWorkflowHandle(journeyWorkflowId(input.businessId, input.contactId)).signal(optedOutSignal, { optOutId: workflowInfo().workflowId, at: input.receivedAt });
    journeyEnded = true;
  } catch {
    // No running journey for this contact: nothing to end.
  }

  const recorded = await store.recordOptOut({ ...input, optOutId: workflowInfo().workflowId });

  let confirmation: OptOutResult['confirmation'];
  if (input.confirmOn) {
    const r = await send({
      idempotencyKey: `${workflowInfo().workflowId}/confirmation`,
      purpose: 'optout_confirmation',
      channel: input.confirmOn,
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      categories: recorded.categories,
    });
    confirmation = { outcome: r.outcome, providerId: r.providerId };
  }
  result = { categories: recorded.categories, allCategories: recorded.allCategories, journeyEnded, confirmation };
  log.info('opt-out honoured', { categories: recorded.categories.length, journeyEnded });
  return result;
}
