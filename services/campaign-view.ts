import { isFinalCampaignStatus, optInRate, startedPerSecond, type SkipReason } from '../domain/campaign';
import { readChunk, ROWS_PER_CHUNK, type CampaignDoc, type CampaignRow } from '../store/campaigns';
import { campaignProgressQuery, campaignWorkflowId, type CampaignProgress } from '../workflows/campaign/contract';
import type { ServiceDeps } from './deps';
import { numberStateOf } from '../store/whatsapp-numbers';
import { campaignOutcomeCounts } from '../store/campaign-outcomes';

/** A row as the API shows it: 1-based row numbers, as in a spreadsheet (the CSV header is not a row). */
export function rowView(r: CampaignRow) {
  return {
    row: r.i + 1,
    phone: r.phone ?? r.input,
    outcome: r.state === 'skipped' ? ('skipped' as const) : ('accepted' as const),
    ...(r.reason ? { reason: r.reason, detail: r.detail } : {}),
    state: r.state,
    ...(r.journeyId ? { journeyId: r.journeyId, startedAt: r.startedAt } : {}),
  };
}
export type RowView = ReturnType<typeof rowView>;

/**
 * How long a status read waits for the workflow's own answer. While its batches chain in one workflow
 * task, a query waits for that task to be renewed (up to 3.2 s: docs/campaigns.md), and with no worker
 * running it waits for one; the store has what the workflow recorded at most 2 s or 200 rows ago.
 */
export const LIVE_PROGRESS_WAIT_MS = 500;

async function liveProgress(deps: ServiceDeps, doc: CampaignDoc): Promise<CampaignProgress | undefined> {
  if (isFinalCampaignStatus(doc.status)) return undefined;
  try {
    return await deps.client.withDeadline(Date.now() + LIVE_PROGRESS_WAIT_MS, () => deps.client.workflow.getHandle(campaignWorkflowId(doc._id)).query(campaignProgressQuery));
  } catch {
    // No answer in time: the store has what the workflow last recorded.
    return undefined;
  }
}

function waitingForTier(live: CampaignProgress | undefined, doc: CampaignDoc): { whatsappTierWaitUntil?: string } {
  // Rows held back for a pause or cancel wait the same way (a moment), but only a WhatsApp plan has a tier.
  if (!(doc.plan as { channel: string }[] | undefined)?.some((s) => s.channel === 'whatsapp')) return {};
  const until = live ? live.tierWaitUntil : doc.progress?.whatsappTierWaitUntil ? new Date(doc.progress.whatsappTierWaitUntil).getTime() : undefined;
  return until !== undefined && until > Date.now() ? { whatsappTierWaitUntil: new Date(until).toISOString() } : {};
}

const epochOf = (d: Date | undefined) => (d ? new Date(d).getTime() : undefined);
const isoOf = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

/**
 * Why a running WhatsApp campaign of a business on Meta goes slower or not at all: its number's quality
 * rating (YELLOW slows it by the business's factor, RED pauses it until the rating recovers).
 */
async function qualityHold(deps: ServiceDeps, doc: CampaignDoc, status: string) {
  const business = deps.businesses.get(doc.businessId);
  if (isFinalCampaignStatus(status) || business?.whatsapp.provider !== 'meta' || !(doc.plan as { channel: string }[] | undefined)?.some((s) => s.channel === 'whatsapp')) return {};
  const state = await numberStateOf(deps.store, business.id);
  if (state?.quality !== 'YELLOW' && state?.quality !== 'RED') return {};
  const effect = state.quality === 'RED' ? 'paused' : 'slowed';
  const reason = state.quality === 'RED' ? 'the WhatsApp number is rated RED by Meta: no new journeys until it recovers' : `the WhatsApp number is rated YELLOW by Meta: journeys start ${business.sending.whatsappYellowSlowdown} times slower`;
  return { whatsappQuality: { rating: state.quality, effect, reason, since: state.qualitySince } };
}

/** Where a campaign stands: the workflow's live progress when it answers, else what it last stored, with journey outcomes. */
export async function campaignView(deps: ServiceDeps, doc: CampaignDoc) {
  const live = await liveProgress(deps, doc);
  const started = live?.started ?? doc.progress?.started ?? 0;
  const skippedAtStart = live?.skippedAtStart ?? doc.progress?.skippedAtStart ?? {};
  const firstStartedAt = live?.firstStartedAt ?? epochOf(doc.progress?.firstStartedAt);
  const lastStartedAt = live?.lastStartedAt ?? epochOf(doc.progress?.lastStartedAt);
  const status = live?.status ?? doc.status;
  const journeys = await campaignOutcomeCounts(deps.store, doc);
  // A journey is counted once its record is (the journeys collection, or the campaign's outcomes, which
  // count only ended ones); until then it counts as active.
  const recorded = journeys.active + journeys.confirmed + journeys.declined + journeys.expired + journeys.opted_out + journeys.cancelled;
  const active = journeys.active + Math.max(0, started - recorded);
  const skippedAtStartTotal = Object.values(skippedAtStart).reduce((a, b) => a + (b ?? 0), 0);
  const pending = Math.max(0, doc.accepted - started - skippedAtStartTotal);
  const skipped: Partial<Record<SkipReason, number>> = { ...doc.skippedAtUpload };
  for (const [reason, n] of Object.entries(skippedAtStart)) skipped[reason as SkipReason] = (skipped[reason as SkipReason] ?? 0) + (n ?? 0);
  return {
    campaignId: doc._id,
    businessId: doc.businessId,
    name: doc.name,
    categories: doc.categories,
    status,
    finished: isFinalCampaignStatus(status) && pending === 0 && active === 0,
    createdAt: doc.createdAt,
    finishedAt: doc.finishedAt,
    rows: { total: doc.rowCount, accepted: doc.accepted },
    counts: { pending, active, confirmed: journeys.confirmed, declined: journeys.declined, expired: journeys.expired, opted_out: journeys.opted_out, cancelled: journeys.cancelled, skipped },
    started,
    deferredByQuietHours: live?.deferred?.count ?? doc.progress?.deferred ?? 0,
    ...waitingForTier(live, doc),
    ...(await qualityHold(deps, doc, status)),
    optInRate: optInRate({ ...journeys, active }),
    startedPerSecond: startedPerSecond(started, firstStartedAt, lastStartedAt),
    firstStartedAt: isoOf(firstStartedAt),
    lastStartedAt: isoOf(lastStartedAt),
    // The workflow's own answer is now; what it recorded in the store, as of its last write.
    progressAsOf: live ? new Date().toISOString() : isoOf(epochOf(doc.updatedAt)),
    cancel: doc.cancel ?? live?.cancel,
  };
}

export interface RowFilter {
  outcome?: 'accepted' | 'skipped';
  reason?: SkipReason;
  after: number;
  limit: number;
}

/** A page of a campaign's rows, read chunk by chunk from `after`; nextAfter when more follow. */
export async function campaignRows(deps: ServiceDeps, doc: CampaignDoc, q: RowFilter): Promise<{ rows: RowView[]; nextAfter?: number }> {
  const out: RowView[] = [];
  let nextAfter: number | undefined;
  for (let chunk = Math.floor(q.after / ROWS_PER_CHUNK); chunk < doc.chunkCount && out.length < q.limit; chunk++) {
    const c = await readChunk(deps.store, doc._id, chunk);
    for (const r of c?.rows ?? []) {
      if (r.i + 1 <= q.after) continue;
      const view = rowView(r);
      if (q.outcome && view.outcome !== q.outcome) continue;
      if (q.reason && r.reason !== q.reason) continue;
      out.push(view);
      if (out.length >= q.limit) {
        nextAfter = r.i + 1;
        break;
      }
    }
  }
  return { rows: out, ...(nextAfter !== undefined && nextAfter < doc.rowCount ? { nextAfter } : {}) };
}
