import { log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import type { HonourAndConfirmActivities, HonourAndConfirmInput } from '../../activities/optout-confirm';
import { LOCAL_SEND_ACTIVITY_OPTIONS, proxyLocalStoreSteps, SEND_ACTIVITY_OPTIONS, stepGaveUp } from '../activity-options';

const inTask = proxyLocalActivities<HonourAndConfirmActivities>(LOCAL_SEND_ACTIVITY_OPTIONS);
const storeSteps = proxyLocalStoreSteps<OptOutActivities>();
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

/**
 * The opt-outs a journey carries out itself (journeyWorkflowV5): each came with the `optedOut` signal
 * that ended the journey, in place of a workflow of its own, and runs the same step an opt-out's
 * workflow runs (activities/optout-confirm.ts) as a local activity in the journey's task. The step
 * is idempotent by the opt-out's origin and its confirmation's key, so a task run again, or the
 * opt-out's own workflow should the API have started one as well, does nothing twice.
 */
export class CarriedOptOuts {
  private readonly queue: HonourAndConfirmInput[] = [];
  private readonly seen = new Set<string>();

  add(step: HonourAndConfirmInput): void {
    if (this.seen.has(step.optOut.optOutId)) return;
    this.seen.add(step.optOut.optOutId);
    this.queue.push(step);
  }

  /** Runs every step added so far, one after another, including those added meanwhile. */
  async run(): Promise<void> {
    for (let step = this.queue.shift(); step; step = this.queue.shift()) await honour(step);
  }
}

/** As the opt-out's own workflow does: one step, or, should it give up, the store step (retried without limit) and the confirmation on its own. */
async function honour(step: HonourAndConfirmInput): Promise<void> {
  try {
    const r = await inTask.honourAndConfirm(step);
    log.info('opt-out honoured by the journey', { categories: r.honoured.categories.length, confirmation: r.confirmation.outcome });
    return;
  } catch (err) {
    if (!stepGaveUp(err)) throw err;
    log.warn('honouring and confirming an opt-out in one step failed; one step at a time', { error: err.cause?.message ?? err.message });
  }
  const honoured = await storeSteps.honourOptOut(step.optOut);
  try {
    await send({ ...step.confirmation, categories: honoured.categories });
  } catch (err) {
    // The contact is blocked and the ledger written; only the courtesy message is missing.
    log.warn('the opt-out confirmation could not be sent', { error: err instanceof Error ? err.message : String(err) });
  }
}
