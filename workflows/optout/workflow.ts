import { getExternalWorkflowHandle, log, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import type { HonourAndConfirmActivities } from '../../activities/optout-confirm';
import { journeyWorkflowId, optedOutSignal } from '../journey/contract';
import { optOutConfirmation, optOutResultQuery, type ContactBlocked, type OptOutInput, type OptOutResult } from './contract';
import { LOCAL_SEND_ACTIVITY_OPTIONS, stepGaveUp, proxyLocalStoreSteps, proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';

/** Activities for runs whose history scheduled them so, local activities otherwise (patched). */
const patchedSteps = proxyStoreSteps<OptOutActivities>();
const localSteps = proxyLocalStoreSteps<OptOutActivities>();
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
const asActivity = proxyActivities<HonourAndConfirmActivities>(SEND_ACTIVITY_OPTIONS);
const inTask = proxyLocalActivities<HonourAndConfirmActivities>(LOCAL_SEND_ACTIVITY_OPTIONS);

/**
 * One opt-out request, keyed by its origin, as every new opt-out starts: optOutWorkflowV5's one step
 * (honourAndConfirm) as a local activity in the first workflow task, so the run is that one workflow
 * task, with no activity task, where V5 took two. The step is idempotent (by origin for the ledger,
 * by key for the confirmation), so a task retried after a worker died does nothing twice; should it
 * give up, the same fallback as V5 runs.
 */
export async function optOutWorkflowV6(input: OptOutInput): Promise<OptOutResult> {
  return honourAndEnd(input, inTask);
}

/**
 * The type opt-outs started before optOutWorkflowV6 run as. Its first workflow task schedules one activity that tells the journey to end (the acknowledgement has usually told it
 * already, with the same request id, so the journey gets one signal), blocks the contact, writes the
 * ledger events (the acknowledgement has usually done both, so this mostly reads) and sends the one
 * confirmation: two workflow tasks in all. The journey may end before the block: it stops its own
 * sends when it ends, and the acknowledgement has blocked the contact already unless it gave up
 * waiting for the store. Should the activity give up (ten attempts), the store step runs as a local
 * activity, retried without limit, the confirmation goes as its own send and the journey is told from
 * here; an opt-out with no confirmation runs as optOutWorkflowV3.
 */
export async function optOutWorkflowV5(input: OptOutInput): Promise<OptOutResult> {
  return honourAndEnd(input, asActivity);
}

async function honourAndEnd(input: OptOutInput, step: HonourAndConfirmActivities): Promise<OptOutResult> {
  if (!input.confirmOn) return optOutWorkflowV3(input);
  const optOutId = workflowInfo().workflowId;
  let result: OptOutResult | undefined = undefined;
  setHandler(optOutResultQuery, () => result);
  const { honoured, confirmation, journeyEnded } = await honourThenConfirm(input, optOutId, input.confirmOn, step);
  result = { categories: honoured.categories, allCategories: honoured.allCategories, journeyEnded: journeyEnded ?? (await endJourney(input, optOutId)), confirmation };
  log.info('opt-out honoured', { categories: honoured.categories.length, journeyEnded: result.journeyEnded });
  return result;
}

/**
 * The type opt-outs started before optOutWorkflowV5 run as: its first workflow task tells the journey
 * to end (a third workflow task when that completes) beside the one activity, which does the rest.
 */
export async function optOutWorkflowV4(input: OptOutInput): Promise<OptOutResult> {
  if (!input.confirmOn) return optOutWorkflowV3(input);
  const confirmOn = input.confirmOn;
  const optOutId = workflowInfo().workflowId;
  let result: OptOutResult | undefined = undefined;
  setHandler(optOutResultQuery, () => result);
  const [journeyEnded, { honoured, confirmation }] = await Promise.all([endJourney(input, optOutId), honourThenConfirm(input, optOutId, confirmOn, asActivity, false)]);
  result = { categories: honoured.categories, allCategories: honoured.allCategories, journeyEnded, confirmation };
  log.info('opt-out honoured', { categories: honoured.categories.length, journeyEnded });
  return result;
}

interface HonouredAndConfirmed {
  honoured: ContactBlocked;
  confirmation: OptOutResult['confirmation'];
  /** Set when the one activity told the journey; undefined when it was not asked to, or gave up. */
  journeyEnded?: boolean;
}

async function honourThenConfirm(input: OptOutInput, optOutId: string, channel: 'sms' | 'whatsapp', step: HonourAndConfirmActivities, tellJourney = true): Promise<HonouredAndConfirmed> {
  try {
    const r = await step.honourAndConfirm({ optOut: { ...input, optOutId }, confirmation: optOutConfirmation(input, optOutId, channel), ...(tellJourney ? { endJourney: true } : {}) });
    return { honoured: r.honoured, confirmation: { outcome: r.confirmation.outcome, providerId: r.confirmation.providerId }, journeyEnded: r.journeyEnded };
  } catch (err) {
    if (!stepGaveUp(err)) throw err;
    log.warn('honouring and confirming in one step failed; one step at a time', { error: err.cause?.message ?? err.message });
  }
  const honoured = await localSteps.honourOptOut({ ...input, optOutId });
  return { honoured, confirmation: await confirm(input, optOutId, honoured.categories, channel) };
}

/**
 * The opt-out started before optOutWorkflowV4 (and one with no confirmation): one store step blocks the
 * contact (an opt-out of everything) and writes the ledger events; the webhook that started it has
 * usually done both, so the step mostly reads. Then the journey is told to end and the confirmation
 * goes out at once, side by side: the send gate already refuses the journey's messages, and the
 * confirmation waits for any send still at the provider itself (activities/channel.ts).
 */
export async function optOutWorkflowV3(input: OptOutInput): Promise<OptOutResult> {
  const optOutId = workflowInfo().workflowId;
  let result: OptOutResult | undefined = undefined;
  setHandler(optOutResultQuery, () => result);

  const honoured = await localSteps.honourOptOut({ ...input, optOutId });
  const ending = endJourney(input, optOutId);
  const confirming = input.confirmOn ? confirm(input, optOutId, honoured.categories, input.confirmOn) : undefined;
  const [journeyEnded, confirmation] = await Promise.all([ending, confirming]);
  result = { categories: honoured.categories, allCategories: honoured.allCategories, journeyEnded, confirmation };
  log.info('opt-out honoured', { categories: honoured.categories.length, journeyEnded });
  return result;
}

/** Tells the contact's journey to end; false when none runs. */
async function endJourney(input: OptOutInput, optOutId: string): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(journeyWorkflowId(input.businessId, input.contactId)).signal(optedOutSignal, { optOutId, at: input.receivedAt });
    return true;
  } catch {
    return false;
  }
}

async function confirm(input: OptOutInput, optOutId: string, categories: string[], channel: 'sms' | 'whatsapp'): Promise<OptOutResult['confirmation']> {
  const r = await send({ ...optOutConfirmation(input, optOutId, channel), categories });
  return { outcome: r.outcome, providerId: r.providerId };
}

/**
 * The type opt-outs started before optOutWorkflowV3 run as: block the contact first (the send gate reads that; the
 * webhook that started this has usually done so already, this is the durable path), then end the
 * journey, record the ledger, confirm once on the channel the opt-out came from. Its store steps are
 * local activities outright, so a run records no patch marker and no TemporalChangeVersion upsert
 * (docs/architecture.md#changing-workflow-code).
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
  const journeyEnded = await endJourney(input, optOutId);
  const recorded = await store().recordOptOut({ ...input, optOutId });
  const confirmation = input.confirmOn ? await confirm(input, optOutId, recorded.categories, input.confirmOn) : undefined;
  result = { categories: recorded.categories, allCategories: recorded.allCategories, journeyEnded, confirmation };
  log.info('opt-out honoured', { categories: recorded.categories.length, journeyEnded });
  return result;
}
