import { getExternalWorkflowHandle, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import { journeyWorkflowId, optedOutSignal } from '../journey/contract';
import { optOutResultQuery, type OptOutInput, type OptOutResult } from './contract';
import { proxyLocalStoreSteps, proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';

/** Activities for runs whose history scheduled them so, local activities otherwise (patched). */
const patchedSteps = proxyStoreSteps<OptOutActivities>();
const localSteps = proxyLocalStoreSteps<OptOutActivities>();
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

/**
 * One opt-out request, keyed by its origin: block the contact first (the send gate reads that; the
 * webhook that started this has usually done so already, this is the durable path), then end the
 * journey, record the ledger, confirm once on the channel the opt-out came from. Every new opt-out
 * starts as this type: its store steps are local activities outright, so a run records no patch
 * marker and no TemporalChangeVersion upsert (docs/architecture.md#changing-workflow-code).
 */
export async function optOutWorkflowV2(input: OptOutInput): Promise<OptOutResult> {
  return runOptOut(input, () => localSteps);
}

/** The type opt-outs started before optOutWorkflowV2 run as: asks `patched` where their store steps run. */
export async function optOutWorkflow(input: OptOutInput): Promise<OptOutResult> {
  return runOptOut(input, patchedSteps);
}

async function runOptOut(input: OptOutInput, store: () => OptOutActivities): Promise<OptOutResult> {
  const optOutId = workflowInfo().workflowId;
  let result: OptOutResult | undefined = undefined;
  setHandler(optOutResultQuery, () => result);

  await store().blockContact({ ...input, optOutId });

  let journeyEnded = false;
  try {
    await getExternalWorkflowHandle(journeyWorkflowId(input.businessId, input.contactId)).signal(optedOutSignal, { optOutId, at: input.receivedAt });
    journeyEnded = true;
  } catch {
    // No running journey for this contact: nothing to end.
  }

  const recorded = await store().recordOptOut({ ...input, optOutId });

  let confirmation: OptOutResult['confirmation'];
  if (input.confirmOn) {
    const r = await send({
      idempotencyKey: `${optOutId}/confirmation`,
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
