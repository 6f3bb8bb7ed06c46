import { ApplicationFailure } from '@temporalio/activity';
import type { Channel } from '../domain/business';
import { isFinalCampaignStatus } from '../domain/campaign';
import { pacingLimitsFor, rowPageSize } from '../domain/campaign-pacing';
import { quietEndsAt, quietStartsAt, isQuiet, type QuietHours } from '../domain/quiet-hours';
import { campaignStore, readChunk, ROWS_PER_CHUNK, writeChunkRows, type CampaignRow } from '../store/campaigns';
import { withReportedTier } from '../store/whatsapp-numbers';
import type { CampaignProgress } from '../workflows/campaign/contract';
import { FailureType } from '../workflows/failures';
import type { JourneyStep } from '../workflows/journey/contract';
import type { CampaignDeps, CampaignSettings, RowPage, RowStartResult, StartableRow } from './campaign';

const MAX_CHUNKS_PER_PAGE = 50;

export function createCampaignRowActivities({ store, businesses }: CampaignDeps) {
  const { campaigns } = campaignStore(store);

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
   * Rows marked `by` this read's run and pass come back too: reads move forward, so the run meets
   * its own rows again only when it does a lost attempt's steps again, whose starts it must count
   * (the start finds their journeys; quiet hours have nothing left to hold back).
   */
  async function nextCampaignRows(input: { campaignId: string; from: number; to: number; limit: number; quietHours: QuietHours; by?: string }): Promise<RowPage> {
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
        const ours = input.by !== undefined && row.by === input.by && row.state !== 'pending';
        if ((row.state !== 'pending' && !ours) || !row.contactId || !row.phone) continue;
        const zones = row.zones?.length ? row.zones : ['UTC'];
        if (!ours && isQuiet(now, zones, input.quietHours)) {
          const wakeAt = quietEndsAt(now, zones, input.quietHours) ?? now + 3_600_000;
          deferred = deferred
            ? { from: Math.min(deferred.from, row.i), to: Math.max(deferred.to, row.i + 1), wakeAt: Math.min(deferred.wakeAt, wakeAt), count: deferred.count + 1 }
            : { from: row.i, to: row.i + 1, wakeAt, count: 1 };
          continue;
        }
        const quietFrom = ours ? undefined : quietStartsAt(now, zones, input.quietHours);
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
  async function recordCampaignStarts(input: { campaignId: string; results: RowStartResult[]; progress: CampaignProgress; by?: string }): Promise<void> {
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
        const by = input.by === undefined ? {} : { by: input.by };
        return r.journeyId
          ? { ...row, state: 'started', journeyId: r.journeyId, startedAt: new Date(r.at), ...by }
          : { ...row, state: 'skipped', reason: r.reason, detail: r.detail, ...by };
      });
      await writeChunkRows(store, input.campaignId, chunk, rows);
    }
    await campaigns.updateOne({ _id: input.campaignId }, { $set: progressFields(input.progress) });
  }

  return { loadCampaignSettings, nextCampaignRows, recordCampaignStarts };
}
