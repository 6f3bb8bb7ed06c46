import { activityInfo, getClient, heartbeat, log, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TemporalAccess } from '../services/temporal';
import { grantWhatsappTier, releaseWhatsappTier } from '../services/whatsapp-tier';
import { startJourneyWorkflow } from '../services/workflow-starts';
import { campaignStartsHeld } from '../store/campaign-holds';
import { numberStateOf } from '../store/whatsapp-numbers';
import { qualityPacing, type QualityRating } from '../domain/whatsapp-quality';
import { journeyIdOf, journeyWorkflowId, type JourneyInput } from '../workflows/journey/contract';
import { OptinCampaign } from '../workflows/search-attributes';
import type { CampaignDeps, RowStartResult, StartableRow, StartBatchInput } from './campaign';

/** createdAt is the API host's clock, run start times Temporal's: compare them with this much slack. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;
/** Wait this long before asking again when the tier workflow gave no instant (it always should). */
const TIER_FALLBACK_WAIT_MS = 60_000;
/** Rows held back for a pause or cancel not yet taken are tried again after this, should it not come. */
const HOLD_RETRY_MS = 1_000;

/** The rows in groups of these sizes, in order; rows beyond them (or all, without sizes) in one more. */
function groupsOf(rows: StartableRow[], sizes: readonly number[] | undefined): StartableRow[][] {
  const groups: StartableRow[][] = [];
  let from = 0;
  for (const size of sizes ?? []) {
    if (from >= rows.length) break;
    groups.push(rows.slice(from, from + size));
    from += size;
  }
  if (from < rows.length) groups.push(rows.slice(from));
  return groups;
}

export function createCampaignStartActivities({ store, businesses, client, taskQueue }: CampaignDeps) {
  /**
   * The journey of this campaign for the contact, if one was ever started (by an earlier attempt of
   * the same batch: a worker killed after the start and before the workflow recorded it). Campaign
   * journeys carry the campaign id in OptinCampaign and a contact is in a campaign once, so the
   * search attribute names the row. The latest run of the id answers in the usual case; the list
   * (eventually consistent) is asked only when a run newer than the campaign may hide ours.
   */
  async function findCampaignJourney(temporal: Client, workflowId: string, campaignId: string, since: number | undefined): Promise<{ runId?: string; running: boolean }> {
    let latest;
    try {
      latest = await temporal.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { running: false };
      throw err;
    }
    const running = latest.status.name === 'RUNNING';
    if (latest.typedSearchAttributes.get(OptinCampaign) === campaignId) {
      return { runId: latest.raw.workflowExecutionInfo?.firstRunId || latest.runId, running };
    }
    if (since === undefined || latest.startTime.getTime() >= since - CLOCK_SKEW_MARGIN_MS) {
      // Journeys never continue as new: a run id is the journey's first run id.
      for await (const run of temporal.workflow.list({ query: `WorkflowId = '${workflowId}' AND OptinCampaign = '${campaignId}'`, pageSize: 1 })) {
        return { runId: run.runId, running };
      }
    }
    return { running };
  }

  /**
   * Starts the row's journey unless the contact has one running, and never twice for one row: the
   * workflow id is the business key, and before a start that could reuse the id of a closed journey
   * we check that none of the closed ones is this campaign's. First try REJECT_DUPLICATE: for a
   * contact never asked (most rows) that one call is the whole start.
   */
  async function startRowJourney(t: TemporalAccess, input: StartBatchInput, row: StartableRow, requestedAt: string): Promise<RowStartResult> {
    const temporal = t.client;
    const workflowId = journeyWorkflowId(input.businessId, row.contactId);
    const journey: JourneyInput = {
      businessId: input.businessId,
      contactId: row.contactId,
      contact: row.contact,
      categories: input.categories,
      plan: input.plan,
      source: { kind: 'campaign', reference: input.campaignId },
      campaignId: input.campaignId,
      campaignRow: row.index,
      requestedAt,
    };
    const started = (runId: string): RowStartResult => ({ index: row.index, journeyId: journeyIdOf(workflowId, runId), at: Date.now() });
    const alreadyRunning = (): RowStartResult => ({ index: row.index, reason: 'journey_already_running', detail: 'the contact already has a journey running with this business', at: Date.now() });
    const start = async (reuse: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE') => (await startJourneyWorkflow(t, journey, reuse)).runId;

    const fresh = await start('REJECT_DUPLICATE');
    if (fresh) return started(fresh);
    const before = await findCampaignJourney(temporal, workflowId, input.campaignId, input.campaignCreatedAt);
    if (before.runId) return started(before.runId);
    if (before.running) return alreadyRunning();
    const again = await start('ALLOW_DUPLICATE');
    if (again) return started(again);
    // A journey began between the look and the start: another starter's, or (a retry racing) ours.
    const raced = await findCampaignJourney(temporal, workflowId, input.campaignId, input.campaignCreatedAt);
    return raced.runId ? started(raced.runId) : alreadyRunning();
  }

  /**
   * A business on Meta whose number's quality rating dropped: YELLOW starts a share of the batch, RED
   * none (the rows come back held, as for the tier, and the workflow waits). The rating is read per
   * batch, so a recovery resumes the campaign at its next look.
   */
  async function easeForQuality(input: StartBatchInput, batch: number) {
    const business = businesses.get(input.businessId);
    if (business?.whatsapp.provider !== 'meta' || !input.plan.some((s) => s.channel === 'whatsapp')) return { start: batch };
    const state = await numberStateOf(store, business.id);
    const eased = qualityPacing(state?.quality as QualityRating | undefined, business.sending.whatsappYellowSlowdown, batch, Date.now());
    if (eased.effect === 'paused') log.info('campaign paused: the WhatsApp number is rated RED', { campaignId: input.campaignId, businessId: business.id });
    return eased;
  }

  /**
   * Starts one journey per row, all at once (the workflow has paced the batch). With a WhatsApp plan
   * the batch first takes grants from the business's tier; rows beyond the grant come back with
   * `heldUntil`. A contact with a journey of their own running is skipped and their grant given back.
   * A retry (same input) gets the same grant and the same journeys back.
   */
  async function startCampaignJourneys(input: StartBatchInput): Promise<RowStartResult[]> {
    const info = activityInfo();
    const t: TemporalAccess = { client: client ?? getClient(), taskQueue: taskQueue ?? info.taskQueue };
    const requestedAt = new Date().toISOString();
    let rows = input.rows;
    let held: RowStartResult[] = [];
    const eased = await easeForQuality(input, rows.length);
    if (eased.holdUntil !== undefined) {
      held = rows.slice(eased.start).map((r) => ({ index: r.index, heldUntil: eased.holdUntil, at: Date.now() }));
      rows = rows.slice(0, eased.start);
    }
    if (input.tier && rows.length) {
      const grant = await grantWhatsappTier(t, input.businessId, { requestId: input.tier.requestId, campaignId: input.campaignId, wanted: rows.length, limit: input.tier.limit });
      const heldUntil = grant.nextFreeAt ?? Date.now() + TIER_FALLBACK_WAIT_MS;
      held = [...rows.slice(grant.granted).map((r) => ({ index: r.index, heldUntil, at: Date.now() })), ...held];
      rows = rows.slice(0, grant.granted);
      if (held.length) log.info('WhatsApp tier used up', { campaignId: input.campaignId, businessId: input.businessId, limit: grant.limit, used: grant.used, granted: grant.granted, until: new Date(heldUntil).toISOString() });
    }
    let done = 0;
    const startGroup = (group: StartableRow[], launchedAt: number) =>
      group.map(async (row): Promise<RowStartResult> => {
        try {
          return { ...(await startRowJourney(t, input, row, requestedAt)), launchedAt };
        } finally {
          done++;
          if (!info.isLocal) heartbeat({ done });
        }
      });
    // The workflow's clock is not this one (it stands at its task's start, or moves with its local
    // activities' results), so the first group's earliest start comes as a time to wait for here.
    let due = Math.max(Date.now(), input.pace?.startAt ?? 0);
    const started: Array<Promise<RowStartResult>> = [];
    const groups = groupsOf(rows, input.pace?.groups);
    let heldForControl = 0;
    for (const [k, group] of groups.entries()) {
      // A timer may fire a millisecond early; a group must never begin inside the window before it.
      for (let wait = due - Date.now(); wait > 0; wait = due - Date.now()) await sleep(wait);
      const holdFor = await campaignStartsHeld(store, input.campaignId);
      if (holdFor) {
        const rest = groups.slice(k).flat();
        heldForControl = rest.length;
        held = [...rest.map((r) => ({ index: r.index, heldUntil: Date.now() + HOLD_RETRY_MS, at: Date.now() })), ...held];
        log.info('campaign starts held for a control request', { campaignId: input.campaignId, for: holdFor, rows: rest.length });
        break;
      }
      const launchedAt = Date.now();
      // Each group waits for its window, not for the starts before it: those run on meanwhile. The
      // window is counted from when this group began, so a late wake-up moves the next one on too:
      // counted from the plan, a group woken 10 ms late had the next begin inside its window, and
      // the pacer then counted both in one window and let the following batch in early.
      due = launchedAt + (input.pace?.everyMs ?? 0);
      started.push(...startGroup(group, launchedAt));
    }
    const results = await Promise.all(started);
    // Rows held for a pause or cancel had their tier grants too.
    const unused = results.filter((r) => !r.journeyId).length + heldForControl;
    if (input.tier && unused > 0) await releaseWhatsappTier(t, input.businessId, input.tier.requestId, unused);
    return [...results, ...held];
  }

  return { startCampaignJourneys };
}
