import { allHandlersFinished, condition, continueAsNew, log, patched, proxyActivities, proxyLocalActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { CampaignActivities, RowStartResult, StartableRow } from '../../activities/campaign';
import { isFinalCampaignStatus } from '../../domain/campaign';
import { allowance, BATCH_CHAIN_LEAD_MS, BATCH_LEAD_MS, batchGroups, consume, consumeLaunches, launchesOf, newPacer, type PacingLimits } from '../../domain/campaign-pacing';
import {
  campaignProgressQuery,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignProgress,
  type CampaignWorkflowInput,
  type CancelCampaignRequest,
} from './contract';

// The campaign's own steps are local activities: on a busy worker the task queue is full of its
// journeys' activities, and queueing behind them held a 10/s campaign to 2/s. Store reads and writes
// retry without limit (MongoDB being down delays the campaign, never loses a row); a start batch
// re-run after a crash is harmless: it finds the journeys its first attempt started, and its tier
// request id gets the first attempt's grant back.
const campaignStep = proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '1m',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});
// Walking every row (skipping the rest, cancelling journeys) can take minutes; heartbeats show it is alive.
const campaignSweep = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});
const campaign = {
  loadCampaignSettings: campaignStep.loadCampaignSettings,
  nextCampaignRows: campaignStep.nextCampaignRows,
  startCampaignJourneys: campaignStep.startCampaignJourneys,
  recordCampaignStarts: campaignStep.recordCampaignStarts,
  skipPendingRows: campaignSweep.skipPendingRows,
  cancelCampaignJourneys: campaignSweep.cancelCampaignJourneys,
};

const DEFAULT_MAX_STARTS_PER_RUN = 2000;
export const SHARED_WHATSAPP_TIER_PATCH = 'campaign-shared-whatsapp-tier';
/** Before it, a batch started one window's rows and the next batch waited for its round trip (docs/campaigns.md). */
export const BATCH_SPANS_WINDOWS_PATCH = 'campaign-batch-spans-windows';
/** Before it, every wait for a window was a timer, and a batch began when the workflow's clock said so (docs/campaigns.md). */
export const BATCH_WAITS_FOR_WINDOW_PATCH = 'campaign-batch-waits-for-window';
/** Before it, every wait longer than BATCH_LEAD_MS was a timer, so each batch let the workflow task go (docs/campaigns.md). */
export const BATCHES_CHAIN_PATCH = 'campaign-batches-chain';
/** Started rows are written to the store at least this often, so GET /v1/campaigns/:id stays current. */
const RECORD_EVERY_MS = 2000;
const RECORD_EVERY_ROWS = 200;

/**
 * Starts one opt-in journey per accepted row of a campaign, at the business's sending rate and
 * outside each contact's quiet hours. Rows stay in MongoDB; the workflow only holds a page of them
 * and the counters, and continues as new every few thousand starts so history stays small.
 * Journeys are started by an activity, one batch per few pacing windows (its groups a window apart,
 * domain/campaign-pacing.ts batchGroups), as independent workflows (not
 * children: Temporal serialises a parent's child starts, which capped a campaign near 20/s on the
 * dev server). Their id is the contact's journey id, so a contact with a journey already running is
 * skipped, never asked twice; a retried batch finds the journeys it started and starts nothing new.
 * With a WhatsApp plan the daily tier is the business's, shared by all its campaigns: each batch
 * takes grants from the business's tier workflow, and rows without one wait for the window to free up.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const maxStartsPerRun = input.maxStartsPerRun ?? DEFAULT_MAX_STARTS_PER_RUN;
  const settings = await campaign.loadCampaignSettings(input.campaignId);
  // Before this patch each campaign counted the tier alone in its pacer (two campaigns got twice the tier).
  const sharedTier = settings.limits.dailyNewContacts !== undefined && patched(SHARED_WHATSAPP_TIER_PATCH);
  const pacing: PacingLimits = sharedTier ? { perSecond: settings.limits.perSecond } : settings.limits;
  const p: CampaignProgress = input.carried
    ? { ...input.carried, runs: input.carried.runs + 1 }
    : {
        campaignId: input.campaignId,
        status: 'running',
        started: 0,
        skippedAtStart: {},
        pass: { number: 1, from: 0, to: settings.rowCount, next: 0 },
        pacer: newPacer(),
        runs: 1,
      };

  if (input.cancelJourneysOnly) {
    await campaign.cancelCampaignJourneys({ campaignId: input.campaignId, reason: input.cancelJourneysOnly.reason });
    return p;
  }

  const ended = () => isFinalCampaignStatus(p.status);
  const interrupted = () => p.status === 'paused' || p.cancel !== undefined;

  setHandler(campaignProgressQuery, () => p);
  // An update's answer leaves with the workflow task, and chained batches keep the task open: the
  // loop's next wait lets it go (letGo below) instead of chaining the next batch on. Answer with the
  // progress as the update left it, not the object later batches go on changing.
  let answerPending = false;
  const answer = (): CampaignProgress => {
    answerPending = true;
    return JSON.parse(JSON.stringify(p));
  };
  setHandler(pauseCampaignUpdate, () => {
    if (p.status === 'running') p.status = 'paused';
    return answer();
  }, { validator: () => { if (ended() || p.cancel) throw new Error(`campaign is ${p.status}`); } });
  setHandler(resumeCampaignUpdate, () => {
    if (p.status === 'paused') p.status = 'running';
    return answer();
  }, { validator: () => { if (ended() || p.cancel) throw new Error(`campaign is ${p.status}`); } });
  setHandler(cancelCampaignUpdate, (req: CancelCampaignRequest) => {
    p.cancel = req;
    p.status = 'cancelling';
    return answer();
  }, { validator: (_req: CancelCampaignRequest) => { if (ended() || p.cancel) throw new Error(`campaign is already ${p.status}`); } });

  // The latest time the starts reported (epoch ms, the activity's clock). After a batch the
  // workflow's own clock can stand before the batch's last launch, and a wait counted from it
  // overshot the window by that much. While batches chain, the workflow's clock stands still at the
  // open task's start: the starts' clock is the one that moves.
  let seen = 0;
  let chaining = false;
  const clock = () => (chaining ? Math.max(Date.now(), seen) : Date.now());

  // Rows are recorded before the pass changes, so the results recorded are of the current pass.
  const rowsBy = () => `${workflowInfo().runId}/${p.pass.number}`;
  let unrecorded: RowStartResult[] = [];
  let lastRecordAt = clock();
  const record = async () => {
    const results = unrecorded;
    unrecorded = [];
    lastRecordAt = clock();
    await campaign.recordCampaignStarts({ campaignId: p.campaignId, results, progress: { ...p }, by: rowsBy() });
  };

  let page: StartableRow[] = [];
  let pageValidUntil: number | undefined;
  let startsThisRun = 0;
  let statusRecorded = p.status;

  for (;;) {
    if (p.cancel) break;
    if (p.status !== statusRecorded) {
      statusRecorded = p.status;
      await record();
    }
    if (p.status === 'paused') {
      await condition(() => p.status !== 'paused' || p.cancel !== undefined);
      continue;
    }
    if (startsThisRun >= maxStartsPerRun || workflowInfo().continueAsNewSuggested) {
      await record();
      // Rows of the current page not started yet are pending in the store: the next run reads them again.
      if (page.length) p.pass.next = page[0].index;
      await condition(allHandlersFinished);
      return continueAsNew<typeof campaignWorkflow>({ campaignId: p.campaignId, carried: p, maxStartsPerRun });
    }

    if (page.length === 0 || (pageValidUntil !== undefined && clock() >= pageValidUntil)) {
      if (page.length) p.pass.next = page[0].index;
      page = [];
      if (unrecorded.length) await record();
      if (p.pass.next < p.pass.to) {
        const got = await campaign.nextCampaignRows({ campaignId: p.campaignId, from: p.pass.next, to: p.pass.to, limit: settings.pageSize, quietHours: settings.quietHours, by: rowsBy() });
        page = got.rows;
        pageValidUntil = got.validUntil;
        p.pass.next = got.next;
        if (got.deferred) {
          const d = p.deferred;
          p.deferred = d
            ? { from: Math.min(d.from, got.deferred.from), to: Math.max(d.to, got.deferred.to), wakeAt: Math.min(d.wakeAt, got.deferred.wakeAt), count: d.count + got.deferred.count }
            : got.deferred;
        }
        continue;
      }
      if (!p.deferred) break;
      await record();
      const wait = p.deferred.wakeAt - Date.now();
      if (wait > 0 && (await condition(interrupted, wait))) continue;
      log.info('visiting rows deferred by quiet hours', { campaignId: p.campaignId, rows: p.deferred.count });
      p.pass = { number: p.pass.number + 1, from: p.deferred.from, to: p.deferred.to, next: p.deferred.from };
      p.deferred = undefined;
      continue;
    }

    if (p.tierWaitUntil !== undefined) {
      const wait = p.tierWaitUntil - Date.now();
      if (wait > 0) {
        await record();
        // Whether woken or interrupted, go round again: the page may have outlived its quiet-hours check.
        await condition(interrupted, wait);
        continue;
      }
      p.tierWaitUntil = undefined;
    }
    const spans = patched(BATCH_SPANS_WINDOWS_PATCH);
    const waits = spans && patched(BATCH_WAITS_FOR_WINDOW_PATCH);
    chaining = waits && patched(BATCHES_CHAIN_PATCH);
    // An update's answer waits for the task to be let go: this wait lets it go, however short.
    const letGo = chaining && answerPending;
    const leadMs = chaining && !letGo ? BATCH_CHAIN_LEAD_MS : waits ? BATCH_LEAD_MS : 0;
    const now = waits ? Math.max(Date.now(), seen) : Date.now();
    const slot = allowance(p.pacer, pacing, now);
    if (letGo || (slot.allowed === 0 && slot.waitMs > leadMs)) {
      answerPending = false;
      if (unrecorded.length && clock() - lastRecordAt >= RECORD_EVERY_MS) await record();
      await condition(interrupted, Math.max(1, slot.waitMs - leadMs));
      continue;
    }
    // waitMs is 0 when a start is allowed now; else the window opens then, on the clock of the launches counted.
    const startAt = now + slot.waitMs;
    const pace = spans ? { ...batchGroups(p.pacer, pacing, startAt), ...(waits ? { startAt } : {}) } : undefined;
    const planned = pace ? pace.groups.reduce((sum, n) => sum + n, 0) : slot.allowed;
    const batch = page.splice(0, Math.min(planned, maxStartsPerRun - startsThisRun));
    const at = Date.now();
    const tier = sharedTier ? { requestId: `${p.campaignId}.${uuid4()}`, limit: settings.limits.dailyNewContacts! } : undefined;
    const answered = await campaign.startCampaignJourneys({ campaignId: p.campaignId, businessId: settings.businessId, categories: settings.categories, plan: settings.plan, rows: batch, tier, campaignCreatedAt: settings.createdAt, ...(pace ? { pace } : {}) });
    const held = answered.filter((r) => r.heldUntil !== undefined);
    const results = answered.filter((r) => r.heldUntil === undefined);
    for (const r of answered) seen = Math.max(seen, r.at);
    if (held.length) {
      const heldRows = new Set(held.map((r) => r.index));
      page.unshift(...batch.filter((row) => heldRows.has(row.index)));
      p.tierWaitUntil = Math.min(...held.map((r) => r.heldUntil!));
    }
    const started = results.filter((r) => r.journeyId).length;
    p.pacer = pace ? consumeLaunches(p.pacer, pacing, launchesOf(results)) : consume(p.pacer, pacing, at, started);
    for (const r of results) {
      if (r.journeyId) {
        p.started++;
        p.firstStartedAt ??= r.at;
        p.lastStartedAt = r.at;
      } else if (r.reason) {
        p.skippedAtStart[r.reason] = (p.skippedAtStart[r.reason] ?? 0) + 1;
      }
    }
    startsThisRun += results.length;
    unrecorded.push(...results);
    if (unrecorded.length >= RECORD_EVERY_ROWS || clock() - lastRecordAt >= RECORD_EVERY_MS) await record();
  }

  if (p.cancel) {
    if (page.length) p.pass.next = page[0].index;
    if (unrecorded.length) await record();
    const skipped = await campaign.skipPendingRows({ campaignId: p.campaignId, reason: 'campaign_cancelled', detail: p.cancel.reason ?? 'the campaign was cancelled before this row was started' });
    if (skipped) p.skippedAtStart.campaign_cancelled = (p.skippedAtStart.campaign_cancelled ?? 0) + skipped;
    if (p.cancel.journeys === 'cancel') await campaign.cancelCampaignJourneys({ campaignId: p.campaignId, reason: p.cancel.reason });
    p.status = 'cancelled';
  } else {
    p.status = 'completed';
  }
  p.deferred = undefined;
  p.tierWaitUntil = undefined;
  await record();
  await condition(allHandlersFinished);
  return p;
}
