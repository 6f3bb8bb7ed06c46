import { TypedSearchAttributes } from '@temporalio/common';
import { journeyStarted, optOutStarted } from '../lib/metric-events';
import { campaignWorkflowId, campaignWorkflowRef, type CampaignWorkflowInput } from '../workflows/campaign/contract';
import { directConsentWorkflowId, directConsentWorkflowRef, type DirectConsentInput } from '../workflows/direct/contract';
import { inboundWorkflowId, inboundWorkflowRef, type InboundMessageInput } from '../workflows/inbound/contract';
import { journeyWorkflowId, journeyWorkflowRef, type JourneyInput } from '../workflows/journey/contract';
import { optOutWorkflowId, optOutWorkflowRef, type OptOutInput } from '../workflows/optout/contract';
import { journeySearchAttributes, OptinBusiness, OptinCampaign, OptinContact } from '../workflows/search-attributes';
import { startOnce, type TemporalAccess } from './temporal';

/**
 * Every workflow start, one function per workflow: the contract's id, reuse policy and search
 * attributes in one place. A start whose id is taken returns started=false.
 */

/** Tagged with the contact id, so erasure finds every workflow that carried the contact's data. */
const contactTags = (c: { businessId: string; contactId: string }) =>
  new TypedSearchAttributes([
    { key: OptinBusiness, value: c.businessId },
    { key: OptinContact, value: c.contactId },
  ]);

/**
 * Where a workflow's tasks (and its activities', which inherit it) go in a task queue's backlog: 1
 * first, 5 last, 3 when unset (every other workflow). An opt-out must take effect at once however
 * many journeys are queued ahead of it; a campaign's ten thousand journeys must not hold up the one a
 * support agent just started, nor the replies and timers of journeys started one by one. Needs a
 * server that dispatches by priority (`matching.useNewMatcher`, which the launchers set); any other
 * server ignores it.
 */
export const TASK_PRIORITIES = { optOut: 1, campaignJourney: 4 } as const;

/** One opt-out per origin (MessageSid, CallSid, request id): a repeated delivery starts nothing. */
export async function startOptOutWorkflow(t: TemporalAccess, input: OptOutInput) {
  const r = await startOnce(t, optOutWorkflowRef, optOutWorkflowId(input.origin), input, {
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: contactTags(input),
    priority: { priorityKey: TASK_PRIORITIES.optOut },
  });
  if (r.started) optOutStarted.publish({ source: input.source.kind, channel: input.channel });
  return r;
}

/** One direct consent per witnessed act (a signed document, a key press). */
export function startDirectConsentWorkflow(t: TemporalAccess, input: DirectConsentInput) {
  return startOnce(t, directConsentWorkflowRef, directConsentWorkflowId(input.origin), input, { workflowIdReusePolicy: 'REJECT_DUPLICATE', typedSearchAttributes: contactTags(input) });
}

/** One inbound workflow per MessageSid: a repeated webhook delivery changes nothing. */
export function startInboundWorkflow(t: TemporalAccess, input: InboundMessageInput) {
  return startOnce(t, inboundWorkflowRef, inboundWorkflowId(input.messageSid), input, { workflowIdReusePolicy: 'REJECT_DUPLICATE', typedSearchAttributes: contactTags(input) });
}

/**
 * A campaign's batches chain in one workflow task (domain/campaign-pacing.ts BATCH_CHAIN_LEAD_MS),
 * which the worker renews at 80 % of this timeout; a pause, resume or cancel reaches the workflow
 * with a renewal. Ten seconds (the default) let a pause wait up to 8 s while batches went on.
 */
export const CAMPAIGN_TASK_TIMEOUT = '4s';

/**
 * The campaign's workflow; its id is the campaign's. `cancelJourneysOnly` runs it again after it
 * completed, to cancel the journeys it started.
 */
export function startCampaignWorkflow(t: TemporalAccess, input: CampaignWorkflowInput & { businessId: string }) {
  const { businessId, ...args } = input;
  const again = args.cancelJourneysOnly !== undefined;
  return startOnce(t, campaignWorkflowRef, campaignWorkflowId(input.campaignId), args, {
    workflowTaskTimeout: CAMPAIGN_TASK_TIMEOUT,
    workflowIdConflictPolicy: again ? 'USE_EXISTING' : 'FAIL',
    workflowIdReusePolicy: again ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
    typedSearchAttributes: new TypedSearchAttributes([
      { key: OptinBusiness, value: businessId },
      { key: OptinCampaign, value: input.campaignId },
    ]),
  });
}

/**
 * A journey; one runs per business + contact. REJECT_DUPLICATE refuses to reuse the id of a closed
 * journey too (the campaign checks that closed one is not its own first), ALLOW_DUPLICATE only a running one.
 */
export async function startJourneyWorkflow(t: TemporalAccess, input: JourneyInput, reuse: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE') {
  const r = await startOnce(t, journeyWorkflowRef, journeyWorkflowId(input.businessId, input.contactId), input, {
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: reuse,
    typedSearchAttributes: new TypedSearchAttributes(journeySearchAttributes({ businessId: input.businessId, contactId: input.contactId, channel: input.plan[0].channel, campaignId: input.campaignId })),
    ...(input.campaignId ? { priority: { priorityKey: TASK_PRIORITIES.campaignJourney } } : {}),
  });
  if (r.started) journeyStarted.publish({ channel: input.plan[0].channel, source: input.source?.kind ?? 'api', campaign: !!input.campaignId });
  return r;
}
