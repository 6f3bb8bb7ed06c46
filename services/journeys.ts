import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { KeyActor } from '../domain/access';
import { defaultPlan, type PlanStep } from '../domain/plan';
import { drawsWhatsappTier } from '../domain/whatsapp-tier';
import { hasBlockDocument, readContactAndBlock } from '../store/blocks';
import { contactIdOf } from '../store/models';
import {
  cancelJourneyUpdate,
  journeyIdOf,
  journeyStateQuery,
  journeyWorkflowId,
  parseJourneyId,
  submitFormUpdate,
  type FormSubmission,
  type FormSubmissionResult,
  type JourneyContact,
  type JourneyInput,
  type JourneyState,
} from '../workflows/journey/contract';
import { requireKnownBusiness, requireKnownCategories } from './businesses';
import type { ServiceDeps, ServiceLog } from './deps';
import { ContactOptedOutError, EndedError, InvalidInputError, NotFoundError, UnavailableError } from './errors';
import { isClosedWorkflow, runStatus, within, type TemporalAccess } from './temporal';
import { drawWhatsappTier } from './whatsapp-tier';
import { withReportedTier } from '../store/whatsapp-numbers';
import { startJourneyWorkflow } from './workflow-starts';

/** Without a deadline a query waits for a worker for as long as the server lets it (30 s with none running). */
const QUERY_DEADLINE_MS = 3_000;
/** A start or describe Temporal has not answered by then gets a 503 with Retry-After, well before a client's own timeout. */
const TEMPORAL_DEADLINE_MS = 5_000;
/** A cancel the server dropped while the run's task was in flight is asked again this often, this far apart. */
const CANCEL_ATTEMPTS = 5;
const CANCEL_RETRY_MS = 300;

/** A request for one opt-in journey, parsed and typed; the API, the pages and the webhooks build it alike. */
export interface JourneyRequest {
  businessId: string;
  contact: JourneyContact;
  categories: string[];
  /** Absent: the default plan. */
  plan?: PlanStep[];
  source?: { kind: string; reference?: string };
  /** What the contact did to ask (a form post with IP and user agent): kept in the journey's source, and so in the proof. */
  evidence?: Record<string, unknown>;
  campaignId?: string;
  /** The key that asks, with the agent and ticket where given: the contact's answer names it in the ledger. */
  actor?: KeyActor;
}

export interface StartedJourney {
  journeyId: string;
  status: string;
  existing: boolean;
  statusUrl: string;
}

function started(workflowId: string, runId: string, existing: boolean): StartedJourney {
  const journeyId = journeyIdOf(workflowId, runId);
  return { journeyId, status: 'active', existing, statusUrl: `/v1/journeys/${journeyId}` };
}

/** The running journey under the id, answered as an existing start. */
async function runningJourney(t: TemporalAccess, workflowId: string): Promise<StartedJourney> {
  const d = await t.client.workflow.getHandle(workflowId).describe();
  return started(workflowId, d.raw.workflowExecutionInfo?.firstRunId || d.runId, true);
}

/**
 * Checks a journey request against the business and the contact's consent, then starts it. A journey
 * that opens a business-initiated WhatsApp conversation first takes a grant from the business's tier;
 * when the tier is used up nothing starts (WhatsappTierUsedUpError). A running journey for the contact
 * is answered as `existing`.
 */
export async function startJourney(deps: ServiceDeps, req: JourneyRequest): Promise<StartedJourney> {
  const business = requireKnownBusiness(deps.businesses, req.businessId);
  requireKnownCategories(business, req.categories);
  const plan = req.plan ?? defaultPlan(!!req.contact.email);
  if (plan.some((s) => s.channel === 'email') && !req.contact.email) {
    throw new InvalidInputError('body', [{ field: 'contact.email', rule: 'is required when the plan uses the email channel' }]);
  }
  const contactId = contactIdOf(business.id, req.contact.phone);
  // The contact's document matters only to a plan that opens on WhatsApp (its service window).
  const opensOnWhatsapp = plan[0]?.channel === 'whatsapp';
  const { contact, blocked } = opensOnWhatsapp ? await readContactAndBlock(deps.store, contactId) : { contact: null, blocked: await hasBlockDocument(deps.store, contactId) };
  if (blocked) throw new ContactOptedOutError();

  const source = req.source || req.evidence ? { kind: req.source?.kind ?? 'api', reference: req.source?.reference, ...(req.evidence ? { evidence: req.evidence } : {}) } : undefined;
  const input: JourneyInput = { businessId: business.id, contactId, contact: req.contact, categories: req.categories, plan, source, campaignId: req.campaignId, requestedAt: new Date().toISOString(), ...(req.actor ? { actor: req.actor } : {}) };
  const workflowId = journeyWorkflowId(business.id, contactId);
  if (drawsWhatsappTier(plan, contact?.lastWhatsappInboundAt)) {
    // A running journey is answered as before and draws nothing: it already has its grant or needed none.
    const latest = await within(deps.client, TEMPORAL_DEADLINE_MS, 'Temporal', () =>
      deps.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }),
    );
    if (latest?.status.name === 'RUNNING') return runningJourney(deps, workflowId);
    await drawWhatsappTier(deps, await withReportedTier(deps.store, business), workflowId, latest?.runId, req.campaignId);
  }
  const r = await within(deps.client, TEMPORAL_DEADLINE_MS, 'Temporal', () => startJourneyWorkflow(deps, input, 'ALLOW_DUPLICATE'));
  // Not started: one is running. The grant taken above, if any, is kept: a duplicate of this request may have started it.
  return r.runId ? started(workflowId, r.runId, false) : runningJourney(deps, workflowId);
}

function requireJourneyIds(journeyId: string) {
  const ids = parseJourneyId(journeyId);
  if (!ids) throw new InvalidInputError('params', [{ field: 'journeyId', rule: 'must be a journey id as returned by POST /v1/journeys', value: journeyId }]);
  return ids;
}

/** A running journey answers from its query; an ended one (or one no worker answers for) from the store. */
export async function readJourney(deps: ServiceDeps, journeyId: string): Promise<JourneyState & { source: 'workflow' | 'store' }> {
  const ids = requireJourneyIds(journeyId);
  const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
  if ((await runStatus(handle)) === 'RUNNING') {
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
  throw new NotFoundError(`journey ${journeyId}`);
}

const ended = (status: string) => new EndedError('journey_ended', `journey already ended (${status.toLowerCase()})`);

/**
 * Cancels a running journey through its update (it records its outcome). The server can drop an
 * update that reaches a run while its workflow task is in flight; the cancel is idempotent, so it is
 * asked again while the run still runs.
 */
export async function cancelJourney(deps: ServiceDeps, journeyId: string, reason: string | undefined, log: ServiceLog): Promise<JourneyState> {
  const ids = requireJourneyIds(journeyId);
  const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(cancelJourneyUpdate, { args: [{ reason }] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new EndedError('journey_ended', `journey cannot be cancelled: ${err.cause?.message ?? err.message}`);
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new UnavailableError('the journey did not answer in time; try again');
      // A closed run answers "not found" to an update: tell that apart from no run at all.
      const status = await runStatus(handle);
      if (status === undefined) throw new NotFoundError(`journey ${journeyId}`);
      if (status !== 'RUNNING') throw ended(status);
      if (attempt >= CANCEL_ATTEMPTS) {
        log.error({ err, journeyId }, 'cancelling a running journey failed');
        throw new UnavailableError(`the journey could not be cancelled just now (${(err as Error).message}); try again`);
      }
      log.warn({ err, journeyId }, 'cancel update dropped; asking again');
      await new Promise((resolve) => setTimeout(resolve, CANCEL_RETRY_MS));
    }
  }
}

/** Whether a journey still waits for the contact's answer; with no worker to ask, a running one is taken as waiting. */
export async function journeyAwaitsAnswer(deps: ServiceDeps, journeyId: string): Promise<boolean> {
  const ids = parseJourneyId(journeyId);
  if (!ids) return false;
  const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
  if ((await runStatus(handle)) !== 'RUNNING') return false;
  const state = await deps.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(journeyStateQuery)).catch(() => undefined);
  return !state || state.status === 'active';
}

/** The contact's answer on the hosted confirmation page; 'ended' when the journey no longer takes one. */
export async function submitJourneyForm(deps: ServiceDeps, journeyId: string, submission: FormSubmission): Promise<FormSubmissionResult | 'ended'> {
  const ids = parseJourneyId(journeyId);
  if (!ids) return 'ended';
  try {
    return await deps.client.workflow.getHandle(ids.workflowId, ids.runId).executeUpdate(submitFormUpdate, { args: [submission] });
  } catch (err) {
    if (isClosedWorkflow(err) || err instanceof WorkflowUpdateFailedError) return 'ended';
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new UnavailableError('the journey did not take the answer in time; try again');
    throw err;
  }
}
