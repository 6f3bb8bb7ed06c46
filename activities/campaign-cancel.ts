import { activityInfo, getClient, heartbeat, log } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { isClosedWorkflow } from '../services/temporal';
import type { SkipReason } from '../domain/campaign';
import { campaignStore, readChunk, writeChunkRows } from '../store/campaigns';
import { cancelJourneyUpdate, parseJourneyId } from '../workflows/journey/contract';
import type { CampaignDeps } from './campaign';

const CANCEL_CONCURRENCY = 10;

export function createCampaignCancelActivities({ store, client }: CampaignDeps) {
  const { campaigns } = campaignStore(store);

  /** Marks every row still pending as skipped (a cancelled campaign); returns how many. */
  async function skipPendingRows(input: { campaignId: string; reason: SkipReason; detail: string }): Promise<number> {
    const c = await campaigns.findById(input.campaignId).lean();
    if (!c) return 0;
    let skipped = 0;
    for (let chunk = 0; chunk < c.chunkCount; chunk++) {
      heartbeat({ chunk });
      const doc = await readChunk(store, input.campaignId, chunk);
      if (!doc || !doc.rows.some((r) => r.state === 'pending')) continue;
      const rows = doc.rows.map((r) => {
        if (r.state !== 'pending') return r;
        skipped++;
        return { ...r, state: 'skipped' as const, reason: input.reason, detail: input.detail };
      });
      await writeChunkRows(store, input.campaignId, chunk, rows);
    }
    return skipped;
  }

  /**
   * Cancels every journey the campaign started that is still running, through the journey's own
   * cancel update so each records its outcome. Resumes after a retry from the last chunk it reported.
   */
  async function cancelCampaignJourneys(input: { campaignId: string; reason?: string }): Promise<{ cancelled: number; alreadyEnded: number }> {
    const temporal = client ?? getClient();
    const c = await campaigns.findById(input.campaignId).lean();
    if (!c) return { cancelled: 0, alreadyEnded: 0 };
    const resumeFrom = (activityInfo().heartbeatDetails as { chunk?: number } | undefined)?.chunk ?? 0;
    let cancelled = 0;
    let alreadyEnded = 0;
    for (let chunk = resumeFrom; chunk < c.chunkCount; chunk++) {
      heartbeat({ chunk });
      const doc = await readChunk(store, input.campaignId, chunk);
      const journeyIds = (doc?.rows ?? []).filter((r) => r.state === 'started' && r.journeyId).map((r) => r.journeyId!);
      for (let k = 0; k < journeyIds.length; k += CANCEL_CONCURRENCY) {
        await Promise.all(
          journeyIds.slice(k, k + CANCEL_CONCURRENCY).map(async (journeyId) => {
            const ids = parseJourneyId(journeyId);
            if (!ids) return;
            try {
              await temporal.workflow.getHandle(ids.workflowId, ids.runId).executeUpdate(cancelJourneyUpdate, { args: [{ reason: input.reason ?? `campaign ${input.campaignId} cancelled` }] });
              cancelled++;
            } catch (err) {
              if (err instanceof WorkflowUpdateFailedError || isClosedWorkflow(err)) {
                alreadyEnded++;
                return;
              }
              throw err;
            }
          }),
        );
        heartbeat({ chunk });
      }
    }
    log.info('campaign journeys cancelled', { campaignId: input.campaignId, cancelled, alreadyEnded });
    return { cancelled, alreadyEnded };
  }

  return { skipPendingRows, cancelCampaignJourneys };
}
