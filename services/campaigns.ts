import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { KeyActor } from '../domain/access';
import type { RawRow } from '../domain/campaign-rows';
import { defaultPlan } from '../domain/plan';
import { holdCampaignStarts, releaseCampaignStarts, type StartsHeldFor } from '../store/campaign-holds';
import { campaignStore, insertCampaignRows, ROWS_PER_CHUNK, type CampaignDoc } from '../store/campaigns';
import { campaignWorkflowId, cancelCampaignUpdate, pauseCampaignUpdate, resumeCampaignUpdate, type CampaignProgress, type CancelCampaignRequest } from '../workflows/campaign/contract';
import { requireKnownBusiness, requireKnownCategories } from './businesses';
import { checkCampaignRows } from './campaign-rows';
import { campaignView, rowView } from './campaign-view';
import type { ServiceDeps, ServiceLog } from './deps';
import { EndedError, NotFoundError } from './errors';
import type { JourneyRequest } from './journeys';
import { isClosedWorkflow } from './temporal';
import { startCampaignWorkflow } from './workflow-starts';

const START_ATTEMPTS = 3;
const START_RETRY_MS = [200, 1000];
const MAX_ROWS_IN_ANSWER = 1000;
const STUCK_BATCH = 100;

/** A campaign asks every row what a journey asks one contact: the same business, categories and plan. */
export interface CampaignRequest extends Pick<JourneyRequest, 'businessId' | 'categories' | 'plan'> {
  name: string;
  rows: RawRow[];
  /** The key that creates it, kept on the campaign. */
  createdBy?: KeyActor;
}

function newCampaignId(): string {
  return `cmp_${randomBytes(8).toString('hex')}`;
}

/**
 * Starts the campaign's workflow. A start that finds it already started (running or ended) counts as
 * done, so the POST, a GET and the sweep may all try, any number of times. False when Temporal did not
 * take it: the campaign stays `starting`, rows kept.
 */
async function startCampaign(deps: ServiceDeps, doc: Pick<CampaignDoc, '_id' | 'businessId'>, log: ServiceLog, attempts = 1): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await startCampaignWorkflow(deps, { campaignId: doc._id, businessId: doc.businessId });
      break;
    } catch (err) {
      log.warn({ err, campaignId: doc._id, attempt }, 'campaign workflow start failed');
      if (attempt >= attempts) return false;
      await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS[Math.min(attempt - 1, START_RETRY_MS.length - 1)]));
    }
  }
  await campaignStore(deps.store).campaigns.updateOne({ _id: doc._id, status: 'starting' }, { $set: { status: 'running' } });
  return true;
}

/** Checks every row, stores them, then starts the campaign; rows are stored before the campaign, so a campaign found `starting` may always be started. */
export async function createCampaign(deps: ServiceDeps, req: CampaignRequest, log: ServiceLog) {
  const business = requireKnownBusiness(deps.businesses, req.businessId);
  requireKnownCategories(business, req.categories);
  const plan = req.plan ?? defaultPlan(false);
  const checked = await checkCampaignRows(deps, business, req.categories, plan.some((s) => s.channel === 'email'), req.rows);
  const campaignId = newCampaignId();
  await insertCampaignRows(deps.store, campaignId, checked.rows);
  await campaignStore(deps.store).campaigns.create({
    _id: campaignId,
    businessId: business.id,
    name: req.name,
    categories: req.categories,
    plan,
    status: 'starting',
    rowCount: checked.rows.length,
    chunkCount: Math.ceil(checked.rows.length / ROWS_PER_CHUNK),
    accepted: checked.accepted,
    outcomesByRow: true,
    skippedAtUpload: checked.skipped,
    progress: { started: 0, skippedAtStart: {} },
    ...(req.createdBy ? { createdBy: req.createdBy } : {}),
  });
  const started = await startCampaign(deps, { _id: campaignId, businessId: business.id }, log, START_ATTEMPTS);
  const listed = checked.rows.length <= MAX_ROWS_IN_ANSWER ? checked.rows : checked.rows.filter((r) => r.outcome === 'skipped').slice(0, MAX_ROWS_IN_ANSWER);
  return {
    campaignId,
    status: started ? 'running' : 'starting',
    statusUrl: `/v1/campaigns/${campaignId}`,
    rowsUrl: `/v1/campaigns/${campaignId}/rows`,
    rows: { total: checked.rows.length, accepted: checked.accepted, skipped: checked.rows.length - checked.accepted, skippedByReason: checked.skipped },
    outcomes: listed.map(rowView),
    outcomesTruncated: listed.length < checked.rows.length,
  };
}

export async function findCampaign(deps: ServiceDeps, campaignId: string): Promise<CampaignDoc> {
  const doc = (await campaignStore(deps.store).campaigns.findById(campaignId).lean()) as CampaignDoc | null;
  if (!doc) throw new NotFoundError(`campaign ${campaignId}`);
  return doc;
}

/** The campaign as stored, started first if its start failed earlier: whoever looks at it next starts it. */
export async function openCampaign(deps: ServiceDeps, campaignId: string, log: ServiceLog): Promise<CampaignDoc> {
  const doc = await findCampaign(deps, campaignId);
  if (doc.status !== 'starting') return doc;
  return (await startCampaign(deps, doc, log)) ? { ...doc, status: 'running' } : doc;
}

/** Starts campaigns left `starting` (their start failed and nobody looked since); for the sweep. */
export async function startStuckCampaigns(deps: ServiceDeps, log: ServiceLog): Promise<number> {
  const stuck = (await campaignStore(deps.store).campaigns.find({ status: 'starting' }).limit(STUCK_BATCH).lean()) as CampaignDoc[];
  let started = 0;
  for (const doc of stuck) if (await startCampaign(deps, doc, log)) started++;
  return started;
}

/** Sends one control update to the campaign workflow; an ended campaign is an EndedError naming its status. */
async function control(doc: CampaignDoc, send: () => Promise<CampaignProgress>): Promise<CampaignProgress> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new EndedError('campaign_conflict', `campaign cannot do that now: ${err.cause?.message ?? err.message}`);
    if (isClosedWorkflow(err)) throw new EndedError('campaign_ended', `campaign ${doc._id} already ${doc.status === 'starting' ? 'failed to start' : 'finished starting journeys'} (status ${doc.status})`);
    throw err;
  }
}

/**
 * The batch under way stops at its next group (store/campaign-holds.ts) while the update waits for the
 * workflow; a request the workflow refuses takes the hold back.
 */
async function heldControl(deps: ServiceDeps, doc: CampaignDoc, reason: StartsHeldFor, send: () => Promise<CampaignProgress>): Promise<CampaignProgress> {
  await holdCampaignStarts(deps.store, doc._id, reason);
  try {
    return await control(doc, send);
  } catch (err) {
    await releaseCampaignStarts(deps.store, doc._id);
    throw err;
  }
}

export async function pauseCampaign(deps: ServiceDeps, campaignId: string, log: ServiceLog) {
  const doc = await openCampaign(deps, campaignId, log);
  const p = await heldControl(deps, doc, 'pause', () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(pauseCampaignUpdate));
  return campaignView(deps, { ...doc, status: p.status });
}

export async function resumeCampaign(deps: ServiceDeps, campaignId: string, log: ServiceLog) {
  const doc = await openCampaign(deps, campaignId, log);
  await releaseCampaignStarts(deps.store, campaignId);
  const p = await control(doc, () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(resumeCampaignUpdate));
  return campaignView(deps, { ...doc, status: p.status });
}

/**
 * Stops starting journeys; with `journeys: 'cancel'` also cancels those it started. A campaign whose
 * workflow has completed is run again only to cancel its journeys.
 */
export async function cancelCampaign(deps: ServiceDeps, campaignId: string, req: CancelCampaignRequest, log: ServiceLog) {
  const doc = await openCampaign(deps, campaignId, log);
  if (doc.status === 'completed' && req.journeys === 'cancel') {
    await startCampaignWorkflow(deps, { campaignId, businessId: doc.businessId, cancelJourneysOnly: { reason: req.reason } });
    await campaignStore(deps.store).campaigns.updateOne({ _id: campaignId }, { $set: { cancel: { journeys: 'cancel', reason: req.reason, at: new Date() } } });
  } else {
    await heldControl(deps, doc, 'cancel', () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(cancelCampaignUpdate, { args: [req] }));
  }
  return campaignView(deps, await findCampaign(deps, campaignId));
}
