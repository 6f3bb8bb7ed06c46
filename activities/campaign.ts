import { activityInfo, ApplicationFailure, getClient, heartbeat, log } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { isClosedWorkflow, type TemporalAccess } from '../services/temporal';
import { grantWhatsappTier, releaseWhatsappTier } from '../services/whatsapp-tier';
import { startJourneyWorkflow } from '../services/workflow-starts';
import type { BusinessRegistry, Channel } from '../domain/business';
import { isFinalCampaignStatus, pacingLimitsFor, quietEndsAt, quietStartsAt, rowPageSize, isQuiet, type PacingLimits, type QuietHours, type SkipReason } from '../domain/campaign';
import { campaignStore, readChunk, ROWS_PER_CHUNK, writeChunkRows, type CampaignRow } from '../store/campaigns';
import type { Store } from '../store/models';
import { numberStateOf, withReportedTier } from '../store/whatsapp-numbers';
import { qualityPacing, type QualityRating } from '../domain/whatsapp-quality';
import type { CampaignProgress } from '../workflows/campaign/contract';
import { FailureType } from '../workflows/failures';
import { cancelJourneyUpdate, journeyIdOf, journeyWorkflowId, parseJourneyId, type JourneyContact, type JourneyInput, type JourneyStep } from '../workflows/journey/contract';
import { OptinCampaign } from '../workflows/search-attributes';

export interface CampaignDeps {
  store: Store;
  businesses: BusinessRegistry;
  /** Starts and cancels the campaign's journeys; without it, the worker's own client (activity context). */
  client?: Client;
  /** The task queue journeys run on; without it, the queue of the activity's own worker. */
  taskQueue?: string;
}

export interface CampaignSettings {
  campaignId: string;
  businessId: string;
  categories: string[];
  plan: JourneyStep[];
  rowCount: number;
  /** When the campaign was stored: no journey of it can have started before. */
  createdAt?: number;
  limits: PacingLimits;
  quietHours: QuietHours;
  pageSize: number;
}

export interface StartableRow {
  index: number;
  contactId: string;
  contact: JourneyContact;
}

export interface RowPage {
  rows: StartableRow[];
  /** Where the next page of this pass begins. */
  next: number;
  /** The page must not be used after this instant: some row's quiet hours begin. */
  validUntil?: number;
  /** Pending rows of this page held back by quiet hours. */
  deferred?: { from: number; to: number; wakeAt: number; count: number };
}

export interface RowStartResult {
  index: number;
  journeyId?: string;
  reason?: SkipReason;
  detail?: string;
  at: number;
  /** Not started: the business's WhatsApp tier is used up until then. The row stays pending. */
  heldUntil?: number;
}

export interface StartBatchInput {
  campaignId: string;
  businessId: string;
  categories: string[];
  plan: JourneyStep[];
  rows: StartableRow[];
  /** When the plan uses WhatsApp: the batch first asks the business's tier workflow for grants. */
  tier?: { requestId: string; limit: number };
  /** The campaign's createdAt (epoch ms), to rule out cheaply that an older journey is one of ours. */
  campaignCreatedAt?: number;
}

const MAX_CHUNKS_PER_PAGE = 50;

const CANCEL_CONCURRENCY = 10;
/** createdAt is the API host's clock, run start times Temporal's: compare them with this much slack. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;
/** Wait this long before asking again when the tier workflow gave no instant (it always should). */
const TIER_FALLBACK_WAIT_MS = 60_000;

export function createCampaignActivities({ store, businesses, client, taskQueue }: CampaignDeps) {
  const { campaigns } = campaignStore(store);

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
   * Starts one journey per row, all at once (the workflow has paced the batch). With a WhatsApp plan
   * the batch first takes grants from the business's tier; rows beyond the grant come back with
   * `heldUntil`. A contact with a journey of their own running is skipped and their grant given back.
   * A retry (same input) gets the same grant and the same journeys back.
   */
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
    const results = await Promise.all(
      rows.map(async (row) => {
        try {
          return await startRowJourney(t, input, row, requestedAt);
        } finally {
          done++;
          if (!info.isLocal) heartbeat({ done });
        }
      }),
    );
    const unused = results.filter((r) => !r.journeyId).length;
    if (input.tier && unused > 0) await releaseWhatsappTier(t, input.businessId, input.tier.requestId, unused);
    return [...results, ...held];
  }

  async function loadCampaignSettings(campaignId: string): Promise<CampaignSettings> {
    const c = await campaigns.findById(campaignId).lean();
    if (!c) throw ApplicationFailure.create({ type: FailureType.BadInput, message: `campaign ${campaignId} not found`, nonRetryable: true });
    const business = businesses.get(c.businessId);
    if (!business) throw ApplicationFailure.create({ type: FailureType.UnknownBusiness, message: `unknown business "${c.businessId}"`, nonRetryable: true });
    const plan = c.plan as JourneyStep[];
    const limits = pacingLimitsFor(await withReportedTier(store, business), plan.map((s) => s.channel as Channel));
    return {
      campaignId,
      businessId: c.businessId,
      categories: c.categories,
      plan,
      rowCount: c.rowCount,
      createdAt: c.createdAt ? new Date(c.createdAt).getTime() : undefined,
      limits,
      quietHours: { start: business.quietHours.start, end: business.quietHours.end },
      pageSize: rowPageSize(limits),
    };
  }

  /**
   * The next pending rows in [from, to) that may be asked now. Rows in their quiet hours stay
   * pending and are reported as deferred, with the instant the earliest of them may be asked.
   */
  async function nextCampaignRows(input: { campaignId: string; from: number; to: number; limit: number; quietHours: QuietHours }): Promise<RowPage> {
    const now = Date.now();
    const rows: StartableRow[] = [];
    let validUntil: number | undefined;
    let deferred: RowPage['deferred'];
    let next = input.from;
    let chunk = Math.floor(input.from / ROWS_PER_CHUNK);
    for (let read = 0; read < MAX_CHUNKS_PER_PAGE && next < input.to && rows.length < input.limit; read++, chunk++) {
      const doc = await readChunk(store, input.campaignId, chunk);
      if (!doc) {
        next = Math.min(input.to, (chunk + 1) * ROWS_PER_CHUNK);
        continue;
      }
      for (const row of doc.rows) {
        if (row.i < next || row.i >= input.to) continue;
        if (rows.length >= input.limit) break;
        next = row.i + 1;
        if (row.state !== 'pending' || !row.contactId || !row.phone) continue;
        const zones = row.zones?.length ? row.zones : ['UTC'];
        if (isQuiet(now, zones, input.quietHours)) {
          const wakeAt = quietEndsAt(now, zones, input.quietHours) ?? now + 3_600_000;
          deferred = deferred
            ? { from: Math.min(deferred.from, row.i), to: Math.max(deferred.to, row.i + 1), wakeAt: Math.min(deferred.wakeAt, wakeAt), count: deferred.count + 1 }
            : { from: row.i, to: row.i + 1, wakeAt, count: 1 };
          continue;
        }
        const quietFrom = quietStartsAt(now, zones, input.quietHours);
        if (quietFrom !== undefined) validUntil = Math.min(validUntil ?? quietFrom, quietFrom);
        rows.push({
          index: row.i,
          contactId: row.contactId,
          contact: { phone: row.phone, email: row.email ?? undefined, locale: row.locale ?? undefined, timezone: row.timezone ?? undefined, name: row.name ?? undefined },
        });
      }
      if (rows.length < input.limit) next = Math.max(next, Math.min(input.to, (chunk + 1) * ROWS_PER_CHUNK));
    }
    return { rows, next, validUntil, deferred };
  }

  function progressFields(p: CampaignProgress) {
    return {
      status: p.status,
      progress: {
        started: p.started,
        skippedAtStart: p.skippedAtStart,
        firstStartedAt: p.firstStartedAt ? new Date(p.firstStartedAt) : undefined,
        lastStartedAt: p.lastStartedAt ? new Date(p.lastStartedAt) : undefined,
        deferred: p.deferred?.count ?? 0,
        whatsappTierWaitUntil: p.tierWaitUntil ? new Date(p.tierWaitUntil) : undefined,
      },
      ...(p.cancel ? { cancel: { ...p.cancel, at: new Date() } } : {}),
      ...(isFinalCampaignStatus(p.status) ? { finishedAt: new Date() } : {}),
    };
  }

  /** Writes what happened to started rows and the campaign's counters; repeating it changes nothing. */
  async function recordCampaignStarts(input: { campaignId: string; results: RowStartResult[]; progress: CampaignProgress }): Promise<void> {
    const byChunk = new Map<number, RowStartResult[]>();
    for (const r of input.results) {
      if (r.heldUntil !== undefined) continue;
      const c = Math.floor(r.index / ROWS_PER_CHUNK);
      byChunk.set(c, [...(byChunk.get(c) ?? []), r]);
    }
    for (const [chunk, results] of byChunk) {
      const doc = await readChunk(store, input.campaignId, chunk);
      if (!doc) continue;
      const byIndex = new Map(results.map((r) => [r.index, r]));
      const rows: CampaignRow[] = doc.rows.map((row) => {
        const r = byIndex.get(row.i);
        if (!r) return row;
        return r.journeyId
          ? { ...row, state: 'started', journeyId: r.journeyId, startedAt: new Date(r.at) }
          : { ...row, state: 'skipped', reason: r.reason, detail: r.detail };
      });
      await writeChunkRows(store, input.campaignId, chunk, rows);
    }
    await campaigns.updateOne({ _id: input.campaignId }, { $set: progressFields(input.progress) });
  }

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

  return { loadCampaignSettings, nextCampaignRows, startCampaignJourneys, recordCampaignStarts, skipPendingRows, cancelCampaignJourneys };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
