import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { parse as parseCsv } from 'csv-parse';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Business } from '../../domain/business';
import {
  contactZones,
  CSV_COLUMNS,
  isFinalCampaignStatus,
  isValidTimeZone,
  MAX_CAMPAIGN_ROWS,
  MAX_CSV_BYTES,
  optInRate,
  SKIP_REASONS,
  startedPerSecond,
  type CsvColumn,
  type SkipReason,
} from '../../domain/campaign';
import { normalizePhone } from '../../domain/phone';
import { campaignStore, insertCampaignRows, journeyCountsOf, readChunk, ROWS_PER_CHUNK, type CampaignDoc, type CampaignRow } from '../../store/campaigns';
import { contactIdOf } from '../../store/models';
import { OptinBusiness, OptinCampaign } from '../../workflows/search-attributes';
import {
  CAMPAIGN_WORKFLOW_TYPE,
  campaignProgressQuery,
  campaignWorkflowId,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignProgress,
  type CampaignWorkflowInput,
} from '../../workflows/campaign/contract';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { categoriesField, checkCategories, defaultPlan, planStepSchema } from '../schemas';

/** Raw contact fields of one row, as strings, before any check. */
export interface RawRow extends Partial<Record<CsvColumn, string>> {
  /** Set when a CSV line has more fields than the header has columns. */
  fieldCount?: number;
}

const rawRowSchema = z.object({
  phone: z.string().max(64).optional(),
  email: z.string().max(320).optional(),
  locale: z.string().max(20).optional(),
  timezone: z.string().max(64).optional(),
  name: z.string().max(500).optional(),
});

const campaignMetaSchema = z
  .object({
    businessId: z.string().min(1),
    name: z.string().min(1).max(120),
    categories: categoriesField,
    plan: z.array(planStepSchema).min(1).max(6).optional(),
  });

const jsonCampaignSchema = campaignMetaSchema.extend({
  contacts: z.array(rawRowSchema).min(1, 'must list at least one contact').max(MAX_CAMPAIGN_ROWS, `at most ${MAX_CAMPAIGN_ROWS} contacts per campaign`),
});

const csvQuerySchema = z.object({
  businessId: z.string().min(1),
  name: z.string().min(1).max(120),
  categories: z.string().min(1).transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean)).pipe(categoriesField),
  plan: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of plan steps' });
        return z.NEVER;
      }
    })
    .pipe(z.array(planStepSchema).min(1).max(6).optional()),
});

const campaignIdParams = z.object({ campaignId: z.string().regex(/^cmp_[0-9a-f]{16}$/, 'must be a campaign id as returned by POST /v1/campaigns') });
const rowsQuerySchema = z.object({
  outcome: z.enum(['accepted', 'skipped']).optional(),
  reason: z.enum(SKIP_REASONS).optional(),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const cancelBodySchema = z.object({ journeys: z.enum(['finish', 'cancel']).default('finish'), reason: z.string().max(500).optional() }).default({ journeys: 'finish' });

const localePattern = /^[a-z]{2}([-_][A-Za-z]{2})?$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LOOKUP_BATCH = 5000;

function newCampaignId(): string {
  return `cmp_${randomBytes(8).toString('hex')}`;
}

/** Reads a CSV body as it streams in: checks the header, the size and the row count. */
export async function readCsvRows(body: Readable): Promise<RawRow[]> {
  let bytes = 0;
  let tooLarge = false;
  const parser = parseCsv({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 64 * 1024 });
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_CSV_BYTES && !tooLarge) {
      tooLarge = true;
      parser.destroy(new HttpError(413, 'payload_too_large', `the CSV file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB`));
    }
  });
  body.pipe(parser);
  const rows: RawRow[] = [];
  let columns: (CsvColumn | undefined)[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        const names = record.map((h) => h.trim().toLowerCase());
        const unknown = names.findIndex((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
        if (unknown >= 0) {
          throw new HttpError(400, 'invalid_csv', `CSV header: column ${unknown + 1} "${record[unknown]}" is not one of ${CSV_COLUMNS.join(', ')}`, [{ field: `header.${unknown}`, rule: `must be one of ${CSV_COLUMNS.join(', ')}`, value: record[unknown] }]);
        }
        const repeated = names.find((n, k) => names.indexOf(n) !== k);
        if (repeated) throw new HttpError(400, 'invalid_csv', `CSV header: column "${repeated}" appears twice`, [{ field: 'header', rule: 'must not repeat a column', value: repeated }]);
        if (!names.includes('phone')) throw new HttpError(400, 'invalid_csv', 'CSV header: the "phone" column is required', [{ field: 'header', rule: 'must have a phone column' }]);
        columns = names as CsvColumn[];
        continue;
      }
      if (rows.length >= MAX_CAMPAIGN_ROWS) throw new HttpError(413, 'too_many_rows', `the CSV file has more than ${MAX_CAMPAIGN_ROWS} rows`);
      const row: RawRow = {};
      record.forEach((value, k) => {
        const column = columns![k];
        if (column && value !== '') row[column] = value;
      });
      if (record.length > columns.length) row.fieldCount = record.length;
      rows.push(row);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (tooLarge) throw new HttpError(413, 'payload_too_large', `the CSV file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB`);
    const e = err as { code?: string; lines?: number; message: string };
    throw new HttpError(400, 'invalid_csv', `CSV line ${e.lines ?? '?'}: ${e.message}`);
  }
  if (!columns) throw new HttpError(400, 'invalid_csv', 'the CSV file is empty: it needs a header line with at least a "phone" column');
  if (rows.length === 0) throw new HttpError(400, 'invalid_csv', 'the CSV file has a header but no rows');
  return rows;
}

interface CheckedRows {
  rows: CampaignRow[];
  accepted: number;
  skipped: Partial<Record<SkipReason, number>>;
}

/**
 * Checks every row before anything starts: its fields, duplicates in the file, and what the store
 * knows of the contact (opted out, already opted in to every category, asked too recently).
 */
export async function checkCampaignRows(deps: ApiDeps, business: Business, categories: string[], planUsesEmail: boolean, raw: RawRow[], now = Date.now()): Promise<CheckedRows> {
  const rows: CampaignRow[] = [];
  const firstRowOf = new Map<string, number>();
  const skip = (row: CampaignRow, reason: SkipReason, detail: string) => {
    row.outcome = 'skipped';
    row.state = 'skipped';
    row.reason = reason;
    row.detail = detail;
  };

  raw.forEach((r, i) => {
    const row: CampaignRow = { i, input: r.phone ?? '', outcome: 'accepted', state: 'pending' };
    rows.push(row);
    if (r.fieldCount !== undefined) return skip(row, 'invalid_field', `row has ${r.fieldCount} fields, more than the header's columns`);
    const phone = normalizePhone(r.phone ?? '');
    if (!phone.ok) return skip(row, 'invalid_phone', `phone ${phone.rule}`);
    if (r.email !== undefined && !emailPattern.test(r.email)) return skip(row, 'invalid_field', 'email: must be an e-mail address');
    if (planUsesEmail && r.email === undefined) return skip(row, 'invalid_field', 'email: is required when the plan uses the email channel');
    if (r.locale !== undefined && !localePattern.test(r.locale)) return skip(row, 'invalid_field', 'locale: must be a locale such as "en" or "pt-BR"');
    if (r.timezone !== undefined && !isValidTimeZone(r.timezone)) return skip(row, 'invalid_field', 'timezone: must be an IANA time zone such as "Europe/Paris"');
    if (r.name !== undefined && r.name.length > 120) return skip(row, 'invalid_field', 'name: must be at most 120 characters');
    row.phone = phone.e164;
    row.contactId = contactIdOf(business.id, phone.e164);
    row.email = r.email;
    row.locale = r.locale;
    row.timezone = r.timezone;
    row.name = r.name;
    row.zones = contactZones(r.timezone, phone.country, business.quietHours.defaultTimezone);
    const first = firstRowOf.get(row.contactId);
    if (first !== undefined) return skip(row, 'duplicate_in_file', `same phone as row ${first + 1}`);
    firstRowOf.set(row.contactId, i);
  });

  const candidates = rows.filter((r) => r.outcome === 'accepted');
  const capMs = business.frequencyCapDays * 86_400_000;
  const known = new Set<string>();
  for (let k = 0; k < candidates.length; k += LOOKUP_BATCH) {
    const batch = candidates.slice(k, k + LOOKUP_BATCH);
    const contacts = await deps.store.contacts.find({ _id: { $in: batch.map((r) => r.contactId!) } }).lean();
    const byId = new Map(contacts.map((c) => [c._id as unknown as string, c]));
    for (const row of batch) {
      const c = byId.get(row.contactId!);
      if (!c) continue;
      known.add(row.contactId!);
      if (c.messaging === 'opted_out') skip(row, 'opted_out', 'the contact opted out; only their own act can opt them back in');
      else if (capMs > 0 && c.lastRequestAt && now - new Date(c.lastRequestAt).getTime() < capMs) {
        skip(row, 'frequency_cap', `last asked ${new Date(c.lastRequestAt).toISOString()}; at most one request per ${business.frequencyCapDays} days`);
      }
    }
  }

  // Consents exist only for known contacts: a file of new contacts costs no consent lookups.
  const stillAccepted = candidates.filter((r) => r.outcome === 'accepted' && known.has(r.contactId!));
  for (let k = 0; k < stillAccepted.length; k += LOOKUP_BATCH) {
    const batch = stillAccepted.slice(k, k + LOOKUP_BATCH);
    const ids = batch.flatMap((r) => categories.map((c) => `${r.contactId}:${c}`));
    const optedIn = await deps.store.consents.find({ _id: { $in: ids }, status: 'opted_in' }).lean();
    const count = new Map<string, number>();
    for (const c of optedIn) count.set(c.contactId, (count.get(c.contactId) ?? 0) + 1);
    for (const row of batch) {
      if ((count.get(row.contactId!) ?? 0) >= categories.length) skip(row, 'already_opted_in', `already opted in to ${categories.join(', ')}`);
    }
  }

  const skipped: Partial<Record<SkipReason, number>> = {};
  let accepted = 0;
  for (const r of rows) {
    if (r.outcome === 'accepted') accepted++;
    else skipped[r.reason!] = (skipped[r.reason!] ?? 0) + 1;
  }
  return { rows, accepted, skipped };
}

/** A row as the API shows it: 1-based row numbers, as in a spreadsheet (the CSV header is not a row). */
function rowView(r: CampaignRow) {
  return {
    row: r.i + 1,
    phone: r.phone ?? r.input,
    outcome: r.state === 'skipped' ? ('skipped' as const) : ('accepted' as const),
    ...(r.reason ? { reason: r.reason, detail: r.detail } : {}),
    state: r.state,
    ...(r.journeyId ? { journeyId: r.journeyId, startedAt: r.startedAt } : {}),
  };
}

const MAX_ROWS_IN_ANSWER = 1000;

async function createCampaign(deps: ApiDeps, meta: z.infer<typeof campaignMetaSchema>, raw: RawRow[], log: FastifyBaseLogger) {
  const business = deps.businesses.get(meta.businessId);
  if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: unknown business "${meta.businessId}"`, [{ field: 'businessId', rule: 'must be a configured business', value: meta.businessId }]);
  const unknown = checkCategories(business, meta.categories);
  if (unknown.length) throw new HttpError(400, 'invalid_request', `body is invalid: ${unknown.map((u) => `${u.field}: ${u.rule}`).join('; ')}`, unknown);
  const plan = meta.plan?.map((s) => ({ channel: s.channel, waitForMs: s.waitFor, remindAfterMs: s.remindAfter ?? [] })) ?? defaultPlan(false);
  const planUsesEmail = plan.some((s) => s.channel === 'email');

  const checked = await checkCampaignRows(deps, business, meta.categories, planUsesEmail, raw);
  const campaignId = newCampaignId();
  const { campaigns } = campaignStore(deps.store);
  const chunkCount = Math.ceil(checked.rows.length / ROWS_PER_CHUNK);
  // Rows first: a campaign document, once it exists, always has all its rows, so whoever finds it
  // still `starting` (a GET, the sweep) may start it.
  await insertCampaignRows(deps.store, campaignId, checked.rows);
  await campaigns.create({
    _id: campaignId,
    businessId: business.id,
    name: meta.name,
    categories: meta.categories,
    plan,
    status: 'starting',
    rowCount: checked.rows.length,
    chunkCount,
    accepted: checked.accepted,
    skippedAtUpload: checked.skipped,
    progress: { started: 0, skippedAtStart: {} },
  });
  const started = await startCampaignWorkflow(deps, { _id: campaignId, businessId: business.id }, log, START_ATTEMPTS);

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

const START_ATTEMPTS = 3;
const START_RETRY_MS = [200, 1000];
/** How often the API looks for campaigns left `starting` (their start failed and nobody asked since). */
const STARTING_SWEEP_MS = 60_000;

/**
 * Starts the campaign's workflow. Its id is the campaign's, and a start that finds it already
 * started (running or ended) counts as done, so the POST, a GET and the sweep may all try, any
 * number of times. False when Temporal did not take it: the campaign stays `starting`, rows kept.
 */
async function startCampaignWorkflow(deps: ApiDeps, doc: Pick<CampaignDoc, '_id' | 'businessId'>, log: FastifyBaseLogger, attempts = 1): Promise<boolean> {
  const input: CampaignWorkflowInput = { campaignId: doc._id };
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
        workflowId: campaignWorkflowId(doc._id),
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: OptinBusiness, value: doc.businessId },
          { key: OptinCampaign, value: doc._id },
        ]),
      });
      break;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) break;
      log.warn({ err, campaignId: doc._id, attempt }, 'campaign workflow start failed');
      if (attempt >= attempts) return false;
      await sleep(START_RETRY_MS[Math.min(attempt - 1, START_RETRY_MS.length - 1)]);
    }
  }
  await campaignStore(deps.store).campaigns.updateOne({ _id: doc._id, status: 'starting' }, { $set: { status: 'running' } });
  return true;
}

/** A campaign whose start failed is started by whoever looks at it next. */
async function ensureStarted(deps: ApiDeps, doc: CampaignDoc, log: FastifyBaseLogger): Promise<CampaignDoc> {
  if (doc.status !== 'starting') return doc;
  return (await startCampaignWorkflow(deps, doc, log)) ? { ...doc, status: 'running' } : doc;
}

async function startStuckCampaigns(deps: ApiDeps, log: FastifyBaseLogger): Promise<void> {
  try {
    const stuck = (await campaignStore(deps.store).campaigns.find({ status: 'starting' }).limit(100).lean()) as CampaignDoc[];
    for (const doc of stuck) await startCampaignWorkflow(deps, doc, log);
  } catch (err) {
    log.warn({ err }, 'could not look for campaigns left starting');
  }
}

async function liveProgress(deps: ApiDeps, doc: CampaignDoc): Promise<CampaignProgress | undefined> {
  if (isFinalCampaignStatus(doc.status)) return undefined;
  try {
    return await deps.client.workflow.getHandle(campaignWorkflowId(doc._id)).query(campaignProgressQuery);
  } catch {
    // No worker answered: the store has what the workflow last recorded.
    return undefined;
  }
}

async function campaignView(deps: ApiDeps, doc: CampaignDoc) {
  const live = await liveProgress(deps, doc);
  const started = live?.started ?? doc.progress?.started ?? 0;
  const skippedAtStart = live?.skippedAtStart ?? doc.progress?.skippedAtStart ?? {};
  const firstStartedAt = live?.firstStartedAt ?? (doc.progress?.firstStartedAt ? new Date(doc.progress.firstStartedAt).getTime() : undefined);
  const lastStartedAt = live?.lastStartedAt ?? (doc.progress?.lastStartedAt ? new Date(doc.progress.lastStartedAt).getTime() : undefined);
  const status = live?.status ?? doc.status;
  const journeys = await journeyCountsOf(deps.store, doc._id);
  // A journey is in the journeys collection once its first activity ran; until then it counts as active.
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
    optInRate: optInRate({ ...journeys, active }),
    startedPerSecond: startedPerSecond(started, firstStartedAt, lastStartedAt),
    firstStartedAt: firstStartedAt ? new Date(firstStartedAt).toISOString() : undefined,
    lastStartedAt: lastStartedAt ? new Date(lastStartedAt).toISOString() : undefined,
    cancel: doc.cancel ?? live?.cancel,
  };
}

function waitingForTier(live: CampaignProgress | undefined, doc: CampaignDoc): { whatsappTierWaitUntil?: string } {
  const until = live ? live.tierWaitUntil : doc.progress?.whatsappTierWaitUntil ? new Date(doc.progress.whatsappTierWaitUntil).getTime() : undefined;
  return until !== undefined && until > Date.now() ? { whatsappTierWaitUntil: new Date(until).toISOString() } : {};
}

async function findCampaign(deps: ApiDeps, campaignId: string): Promise<CampaignDoc> {
  const doc = (await campaignStore(deps.store).campaigns.findById(campaignId).lean()) as CampaignDoc | null;
  if (!doc) throw new HttpError(404, 'not_found', `campaign ${campaignId} not found`);
  return doc;
}

/** Sends one control update to the campaign workflow; an ended campaign is a 409 naming its status. */
async function control(deps: ApiDeps, doc: CampaignDoc, send: () => Promise<CampaignProgress>): Promise<CampaignProgress> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new HttpError(409, 'campaign_conflict', `campaign cannot do that now: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) {
      throw new HttpError(409, 'campaign_ended', `campaign ${doc._id} already ${doc.status === 'starting' ? 'failed to start' : 'finished starting journeys'} (status ${doc.status})`);
    }
    throw err;
  }
}

export function registerCampaignRoutes(app: FastifyInstance, deps: ApiDeps): void {
  // The CSV streams into the parser, which enforces its own size limit instead of buffering 10 MB first.
  app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  let sweep: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    void startStuckCampaigns(deps, app.log);
    sweep = setInterval(() => void startStuckCampaigns(deps, app.log), STARTING_SWEEP_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(sweep));

  app.post('/campaigns', async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '');
    if (type.startsWith('text/csv')) {
      const meta = parseOr400(csvQuerySchema, request.query, 'query');
      const rows = await readCsvRows(request.body as Readable);
      return reply.status(202).send(await createCampaign(deps, meta, rows, request.log));
    }
    const body = parseOr400(jsonCampaignSchema, request.body, 'body');
    return reply.status(202).send(await createCampaign(deps, body, body.contacts, request.log));
  });

  app.get('/campaigns/:campaignId', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    return campaignView(deps, await ensureStarted(deps, await findCampaign(deps, campaignId), request.log));
  });

  app.get('/campaigns/:campaignId/rows', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const q = parseOr400(rowsQuerySchema, request.query, 'query');
    const doc = await findCampaign(deps, campaignId);
    const out: ReturnType<typeof rowView>[] = [];
    let nextAfter: number | undefined;
    for (let chunk = Math.floor(q.after / ROWS_PER_CHUNK); chunk < doc.chunkCount && out.length < q.limit; chunk++) {
      const c = await readChunk(deps.store, campaignId, chunk);
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
    return { campaignId, rows: out, ...(nextAfter !== undefined && nextAfter < doc.rowCount ? { nextAfter } : {}) };
  });

  app.post('/campaigns/:campaignId/pause', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const doc = await ensureStarted(deps, await findCampaign(deps, campaignId), request.log);
    const p = await control(deps, doc, () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(pauseCampaignUpdate));
    return campaignView(deps, { ...doc, status: p.status });
  });

  app.post('/campaigns/:campaignId/resume', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const doc = await ensureStarted(deps, await findCampaign(deps, campaignId), request.log);
    const p = await control(deps, doc, () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(resumeCampaignUpdate));
    return campaignView(deps, { ...doc, status: p.status });
  });

  app.post('/campaigns/:campaignId/cancel', async (request, reply) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const req = parseOr400(cancelBodySchema, request.body ?? {}, 'body');
    const doc = await ensureStarted(deps, await findCampaign(deps, campaignId), request.log);
    if (doc.status === 'completed' && req.journeys === 'cancel') {
      // Every row was started and the campaign workflow has ended: a new run of it cancels the journeys.
      const input: CampaignWorkflowInput = { campaignId, cancelJourneysOnly: { reason: req.reason } };
      await deps.client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
        workflowId: campaignWorkflowId(campaignId),
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      await campaignStore(deps.store).campaigns.updateOne({ _id: campaignId }, { $set: { cancel: { journeys: 'cancel', reason: req.reason, at: new Date() } } });
      return reply.status(202).send(await campaignView(deps, await findCampaign(deps, campaignId)));
    }
    await control(deps, doc, () => deps.client.workflow.getHandle(campaignWorkflowId(campaignId)).executeUpdate(cancelCampaignUpdate, { args: [req] }));
    return reply.status(202).send(await campaignView(deps, await findCampaign(deps, campaignId)));
  });
}
