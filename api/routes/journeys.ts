import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowExecutionDescription } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isBlocked } from '../../activities/optout';
import type { Business } from '../../domain/business';
import { contactIdOf } from '../../store/models';
import { OptinBusiness, OptinCampaign, OptinChannel, OptinContact, OptinStatus } from '../../workflows/search-attributes';
import {
  cancelJourneyUpdate,
  JOURNEY_WORKFLOW_TYPE,
  journeyIdOf,
  journeyStateQuery,
  journeyWorkflowId,
  parseJourneyId,
  type JourneyInput,
  type JourneyState,
  type JourneyStep,
} from '../../workflows/journey/contract';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { checkCategories, defaultPlan, startJourneyBodySchema } from '../schemas';
import { grantWhatsappTier } from '../temporal';
import { SERVICE_WINDOW_MS } from '../../domain/whatsapp-window';

/** Without a deadline a query waits for a worker for as long as the server lets it (30 s with none running). */
const QUERY_DEADLINE_MS = 3_000;

/** The first message leaves seconds after the start, later on a busy worker: the window must stay open this much longer. */
const SERVICE_WINDOW_MARGIN_MS = 3_600_000;
/** How long a start waits for the business's tier workflow to answer (it needs a worker). */
const TIER_DEADLINE_MS = 10_000;
/** Request ids asked in turn when earlier ones were refused (see drawWhatsappTier); then one per attempt. */
const MAX_TIER_REQUEST_IDS = 10;

const journeyIdParams = z.object({ journeyId: z.string().min(1).max(200) });
const cancelBody = z.object({ reason: z.string().max(500).optional() }).default({});

export interface StartedJourney {
  journeyId: string;
  status: string;
  existing: boolean;
  statusUrl: string;
}

export interface StartJourneyOptions {
  campaignId?: string;
  /** What the contact did to ask (a form post with IP and user agent): kept in the journey's source, and so in the proof. */
  evidence?: Record<string, unknown>;
}

/** The business's WhatsApp tier is used up: nothing was started. */
export class WhatsappTierUsedUpError extends HttpError {
  readonly retryAfterSeconds: number;

  constructor(business: Business, used: number, nextFreeAt: number) {
    const limit = business.sending.whatsappTier;
    const retryAfterSeconds = Math.max(1, Math.ceil((nextFreeAt - Date.now()) / 1000));
    const at = new Date(nextFreeAt).toISOString();
    super(
      429,
      'whatsapp_tier_used_up',
      `business "${business.id}" has used up its WhatsApp tier (${limit} new contacts per rolling 24 hours; ${used} taken): budget frees up at ${at} (in ${retryAfterSeconds} s). Nothing was started; try again then, or ask by SMS or e-mail first`,
      { whatsappTier: limit, used, nextFreeAt: at, retryAfterSeconds },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * WhatsApp counts a business-initiated conversation against the number's tier: a journey whose first
 * step is WhatsApp opens one (an opt-in template), unless every message of that step, reminders
 * included, goes out while the contact's customer service window is open; those are free session
 * messages (activities/channel.ts sends a quick reply then, not the template).
 */
function drawsWhatsappTier(plan: JourneyStep[], lastWhatsappInboundAt: Date | undefined | null, now = Date.now()): boolean {
  const first = plan[0];
  if (first?.channel !== 'whatsapp') return false;
  if (!lastWhatsappInboundAt) return true;
  const lastSendAt = now + Math.max(0, ...first.remindAfterMs);
  return new Date(lastWhatsappInboundAt).getTime() + SERVICE_WINDOW_MS < lastSendAt + SERVICE_WINDOW_MARGIN_MS;
}

/**
 * Takes one grant from the business's tier for the journey about to start as workflowId after
 * previousRunId. The request id names that journey, so a retried POST (or two at once) whose journey
 * did not start gets the same grant back. A refusal is remembered under its id too, so a POST retried
 * after Retry-After asks under the journey's next id.
 */
async function drawWhatsappTier(deps: ApiDeps, business: Business, workflowId: string, previousRunId: string | undefined, campaignId: string | undefined): Promise<void> {
  const base = `${workflowId}.after.${previousRunId ?? 'none'}`;
  const limit = business.sending.whatsappTier;
  for (let n = 0; ; n++) {
    const requestId = n === 0 ? base : n < MAX_TIER_REQUEST_IDS ? `${base}.${n}` : `${base}.at.${Date.now()}`;
    let grant;
    try {
      grant = await deps.client.withDeadline(Date.now() + TIER_DEADLINE_MS, () => grantWhatsappTier(deps.client, deps.taskQueue, business.id, { requestId, campaignId: campaignId ?? '', wanted: 1, limit }));
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new HttpError(503, 'unavailable', 'the WhatsApp tier of the business did not answer in time; nothing was started; try again');
      throw err;
    }
    if (grant.granted > 0) return;
    // Temporal (by update id) and the tier workflow (by request id) answer a repeated request as before:
    // a refusal whose budget has freed up since, or that finds room now, was an earlier POST's.
    const earlierRefusal = grant.used < grant.limit || (grant.nextFreeAt !== undefined && grant.nextFreeAt <= Date.now());
    if (earlierRefusal) continue;
    throw new WhatsappTierUsedUpError(business, grant.used, grant.nextFreeAt ?? Date.now() + 60_000);
  }
}

function existingJourney(workflowId: string, described: WorkflowExecutionDescription): StartedJourney {
  const journeyId = journeyIdOf(workflowId, described.raw.workflowExecutionInfo?.firstRunId || described.runId);
  return { journeyId, status: 'active', existing: true, statusUrl: `/v1/journeys/${journeyId}` };
}

/** The latest run of the journey id, if any. */
async function latestJourneyRun(deps: ApiDeps, workflowId: string) {
  try {
    return await deps.client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Validates a journey request against the business and the contact's consent, then starts it. A
 * journey that opens a business-initiated WhatsApp conversation first takes a grant from the
 * business's tier; when the tier is used up nothing starts (WhatsappTierUsedUpError, a 429).
 */
export async function startJourney(deps: ApiDeps, raw: unknown, options: StartJourneyOptions = {}): Promise<StartedJourney> {
  const { campaignId } = options;
  const body = parseOr400(startJourneyBodySchema, raw, 'body');
  const business = deps.businesses.get(body.businessId);
  if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: must be a configured business (got "${body.businessId}")`, [{ field: 'businessId', rule: 'must be a configured business', value: body.businessId }]);
  const unknown = checkCategories(business, body.categories);
  if (unknown.length) throw new HttpError(400, 'invalid_request', `body is invalid: ${unknown.map((u) => `${u.field}: ${u.rule}`).join('; ')}`, unknown);

  const contactId = contactIdOf(business.id, body.contact.phone);
  const contact = await deps.store.contacts.findById(contactId).lean();
  if (await isBlocked(deps.store, contactId, contact)) {
    throw new HttpError(409, 'contact_opted_out', 'the contact opted out; only their own act (START, the web form, an in-chat request) can opt them back in');
  }

  const plan = body.plan?.map((s) => ({ channel: s.channel, waitForMs: s.waitFor, remindAfterMs: s.remindAfter ?? [] })) ?? defaultPlan(!!body.contact.email);
  const input: JourneyInput = {
    businessId: business.id,
    contactId,
    contact: body.contact,
    categories: body.categories,
    plan,
    source: body.source || options.evidence ? { kind: body.source?.kind ?? 'api', reference: body.source?.reference, ...(options.evidence ? { evidence: options.evidence } : {}) } : undefined,
    campaignId,
    requestedAt: new Date().toISOString(),
  };
  const workflowId = journeyWorkflowId(business.id, contactId);
  const searchAttributes = [
    { key: OptinBusiness, value: business.id },
    { key: OptinContact, value: contactId },
    { key: OptinStatus, value: 'active' },
    { key: OptinChannel, value: plan[0].channel },
    ...(campaignId ? [{ key: OptinCampaign, value: campaignId }] : []),
  ];
  if (drawsWhatsappTier(plan, contact?.lastWhatsappInboundAt)) {
    // A running journey is answered as before and draws nothing: it already has its grant or needed none.
    const latest = await latestJourneyRun(deps, workflowId);
    if (latest?.status.name === 'RUNNING') return existingJourney(workflowId, latest);
    await drawWhatsappTier(deps, business, workflowId, latest?.runId, campaignId);
  }
  try {
    const handle = await deps.client.workflow.start(JOURNEY_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: new TypedSearchAttributes(searchAttributes),
    });
    const journeyId = journeyIdOf(workflowId, handle.firstExecutionRunId);
    return { journeyId, status: 'active', existing: false, statusUrl: `/v1/journeys/${journeyId}` };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // The grant taken above, if any, is kept: a duplicate of this request may have started that journey with it.
    return existingJourney(workflowId, await deps.client.workflow.getHandle(workflowId).describe());
  }
}

/** A running journey answers from its query; an ended one from the store. */
export async function readJourney(deps: ApiDeps, journeyId: string): Promise<JourneyState & { source: 'workflow' | 'store' }> {
  const ids = parseJourneyId(journeyId);
  if (!ids) throw new HttpError(400, 'invalid_request', 'params is invalid: journeyId: must be a journey id as returned by POST /v1/journeys');
  const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
  let running = false;
  try {
    running = (await handle.describe()).status.name === 'RUNNING';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  if (running) {
    try {
      const state = await deps.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(journeyStateQuery));
      return { ...state, source: 'workflow' };
    } catch {
      // No worker answered the query in time: the store still has what the journey last recorded.
    }
  }
  const doc = await deps.store.journeys.findById(journeyId).lean();
  if (doc?.state) return { ...(doc.state as JourneyState), source: 'store' };
  if (doc) {
    return { journeyId, businessId: doc.businessId, contactId: doc.contactId, categories: doc.categories ?? [], status: doc.status as JourneyState['status'], stepIndex: 0, channel: '', attempts: 0, events: [], source: 'store' };
  }
  throw new HttpError(404, 'not_found', `journey ${journeyId} not found`);
}

export function registerJourneyRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/journeys', async (request, reply) => {
    try {
      const started = await startJourney(deps, request.body);
      return reply.status(started.existing ? 200 : 202).send(started);
    } catch (err) {
      if (err instanceof WhatsappTierUsedUpError) reply.header('retry-after', String(err.retryAfterSeconds));
      throw err;
    }
  });

  app.get('/journeys/:journeyId', async (request) => {
    const { journeyId } = parseOr400(journeyIdParams, request.params, 'params');
    return readJourney(deps, journeyId);
  });

  app.post('/journeys/:journeyId/cancel', async (request) => {
    const { journeyId } = parseOr400(journeyIdParams, request.params, 'params');
    const { reason } = parseOr400(cancelBody, request.body ?? {}, 'body');
    const ids = parseJourneyId(journeyId);
    if (!ids) throw new HttpError(400, 'invalid_request', 'params is invalid: journeyId: must be a journey id as returned by POST /v1/journeys');
    const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
    // An update that reaches a run while its workflow task is in flight can be dropped by the server
    // (seen under load with local activities): the cancel is idempotent, so ask again a few times.
    const cancelOnce = async (attemptsLeft: number): Promise<unknown> => {
      try {
        return await handle.executeUpdate(cancelJourneyUpdate, { args: [{ reason }] });
      } catch (err) {
        const known = err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError;
        if (known || attemptsLeft <= 0) throw err;
        const status = await handle.describe().then((d) => d.status.name, () => undefined);
        if (status !== 'RUNNING') throw err;
        request.log.warn({ err, journeyId }, 'cancel update dropped; asking again');
        await new Promise((resolve) => setTimeout(resolve, 300));
        return cancelOnce(attemptsLeft - 1);
      }
    };
    try {
      return await cancelOnce(4);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // The server answers "not found" for an update to a run that has closed: tell that apart from no run at all.
        const ended = await handle.describe().then(
          (d) => d.status.name,
          (e: unknown) => {
            if (e instanceof WorkflowNotFoundError) return undefined;
            throw e;
          },
        );
        if (ended) throw new HttpError(409, 'journey_ended', `journey already ended (${ended.toLowerCase()})`);
        throw new HttpError(404, 'not_found', `journey ${journeyId} not found`);
      }
      if (err instanceof WorkflowUpdateFailedError) throw new HttpError(409, 'journey_ended', `journey cannot be cancelled: ${err.cause?.message ?? err.message}`);
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new HttpError(503, 'unavailable', 'the journey did not answer in time; try again');
      if (/already completed|workflow execution already completed/i.test((err as Error).message)) throw new HttpError(409, 'journey_ended', 'journey already ended');
      // Anything else (an update the server dropped while the run closed, a busy server): say which.
      const status = await handle.describe().then((d) => d.status.name, () => undefined);
      if (status && status !== 'RUNNING') throw new HttpError(409, 'journey_ended', `journey already ended (${status.toLowerCase()})`);
      request.log.error({ err, journeyId }, 'cancelling a running journey failed');
      throw new HttpError(503, 'unavailable', `the journey could not be cancelled just now (${(err as Error).message}); try again`);
    }
  });
}
