import { optOutAnswered } from '../lib/metric-events';
import { readBlocked } from '../store/blocks';
import { dropPendingOptOut, listPendingOptOuts } from '../store/pending-optouts';
import { optOutScope } from '../store/optout-ledger';
import { optOutWorkflowId, type ContactBlocked, type OptOutInput } from '../workflows/optout/contract';
import { withinMs } from '../lib/within-ms';
import { closedWithinMs } from './deadline';
import type { ServiceDeps, ServiceLog } from './deps';
import { blockWithin, firstDelivery, keepBeside, recordWithin, startOrKeep, type BlockStep, type StartResult } from './optout-steps';
import { carryToJourney, confirmationClaimed } from './optout-carry';
import { inboundPayload } from './payloads';
import { runStatus, within } from './temporal';
import { startOptOutWorkflow } from './workflow-starts';

/**
 * How long a webhook or API call spends blocking the contact (store writes and sends already at the
 * provider) before answering anyway; well under the 15 s after which Twilio gives up on a webhook.
 */
export const OPTOUT_BLOCK_WAIT_MS = 10_000;

/**
 * How long a webhook or API call waits for Temporal to take the opt-out's workflow. Past it (a server
 * overloaded or down), the opt-out is kept in the store instead and a sweep starts its workflow later:
 * Twilio gives up on a webhook after 15 s and does not send it again, so a STOP must never wait on
 * Temporal alone.
 */
export const OPTOUT_START_WAIT_MS = 5_000;
/**
 * How long the first delivery of an opt-out, blocked and in the ledger, still waits for Temporal's
 * start before it keeps the opt-out for the sweep and answers: long enough for a healthy server, so
 * the sweep stays the exception, short enough that a busy one does not hold the answer.
 */
export const OPTOUT_START_GRACE_MS = 250;
const PENDING_BATCH = 500;
/** How long a repeated delivery asks whether its confirmation was claimed. */
const CLAIMED_WAIT_MS = 1_000;
/** A journey took the opt-out's step with its signal: as durable as a started workflow. */
const CARRIED: StartResult = { ok: true, started: true };

/**
 * 'blocked': the send gate refuses the contact and no send that passed it is still at the provider;
 * the opt-out is durable (its workflow started, its journey told, or kept in the store until Temporal
 * takes it, see firstTime).
 * 'accepted': a subset of categories, recorded by the workflow (nothing is blocked).
 * 'already_done': a repeated request whose opt-out had already finished.
 * 'queued': Temporal did not take the workflow in time; the opt-out is kept in the store (the contact
 * is blocked if it was an opt-out of everything) and the sweep starts the workflow.
 * 'pending': the store did not answer (or a send stayed at the provider) within the wait; the
 * opt-out is durable in Temporal and its workflow blocks the contact as its first step and writes
 * the ledger events.
 */
export type OptOutProgress = 'blocked' | 'accepted' | 'already_done' | 'queued' | 'pending';

export interface OptOutOutcome {
  optOutId: string;
  started: boolean;
  progress: OptOutProgress;
  /** Its ledger events (and current consents) were written before the answer; else its workflow writes them. */
  recorded?: boolean;
  detail?: string;
}

/**
 * How old a kept opt-out must be before the scheduled sweep starts its workflow: longer than the
 * acknowledgement's own start or journey signal, kept in flight when the opt-out was kept (10 s at
 * most), can take to land and drop it. A sweep sooner would start a workflow for an opt-out its
 * journey is about to carry: harmless, every step being keyed, but a workflow for nothing.
 */
export const PENDING_OPTOUT_MIN_AGE_MS = 15_000;

/**
 * Starts the workflows of opt-outs kept in the store (with `minAgeMs`, only those kept at least that
 * long ago), each on its own and each within the start wait: one that fails or hangs does not hold up
 * the rest.
 */
export async function startPendingOptOuts(deps: ServiceDeps, log: ServiceLog, { minAgeMs = 0 }: { minAgeMs?: number } = {}): Promise<{ started: number; failed: number }> {
  let started = 0;
  let failed = 0;
  for (const doc of await listPendingOptOuts(deps.store, PENDING_BATCH, minAgeMs > 0 ? new Date(Date.now() - minAgeMs) : undefined)) {
    try {
      await within(deps.client, OPTOUT_START_WAIT_MS, 'Temporal', () => startOptOutWorkflow(deps, doc.input));
      await dropPendingOptOut(deps.store, doc._id);
      started++;
    } catch (err) {
      failed++;
      log.warn({ err, optOutId: doc._id }, 'starting a kept opt-out failed; the next sweep tries again');
    }
  }
  return { started, failed };
}

/**
 * Starts one opt-out, keyed by its origin (a repeated delivery is a no-op), then blocks the contact
 * before answering. The workflow blocks it too, as its first step, but a busy worker can take seconds
 * to get there; blocking here makes "nothing but the confirmation after the acknowledgement" hold
 * whatever the task queue's backlog. When Temporal is slow or down the opt-out is kept in the store
 * instead, so the answer is durable either way (MongoDB down and Temporal slow at once: an error).
 */
export async function requestOptOut(deps: ServiceDeps, request: OptOutInput, waitMs = OPTOUT_BLOCK_WAIT_MS, opts: RequestOptions = {}): Promise<OptOutOutcome> {
  const outcome = await startAndBlock(deps, request, waitMs, opts);
  optOutAnswered.publish({ source: request.source.kind, progress: outcome.progress });
  return outcome;
}

export interface RequestOptions {
  /** The caller read the contact and its block document just now and found neither set (one STOP's webhook). */
  unblockedJustNow?: boolean;
  /** The contact's latest journey, read by the caller just now (null: none); the journey's record is closed without reading the contact again. */
  currentJourneyId?: string | null;
  /** The caller already asked whether this is the opt-out's first delivery (services/optout-steps.ts firstDelivery), before anything was written. */
  firstDelivery?: Promise<boolean | undefined>;
}

interface Attempt {
  optOutId: string;
  input: OptOutInput;
  everything: boolean;
  deadline: number;
  waitMs: number;
  recording: Promise<boolean>;
  /** The workflow's start, begun at once for an opt-out no journey could carry; else begun when needed. */
  starting?: Promise<StartResult>;
  startWorkflow: () => Promise<StartResult>;
  opts: RequestOptions;
}

async function startAndBlock(deps: ServiceDeps, request: OptOutInput, waitMs: number, opts: RequestOptions): Promise<OptOutOutcome> {
  const optOutId = optOutWorkflowId(request.origin);
  const deadline = Date.now() + waitMs;
  // Whatever the contact sent stays out of the workflow input (Temporal refuses megabytes) and out of document keys.
  const input: OptOutInput = { ...request, ...(await inboundPayload(deps, optOutId, request.payload)) };
  const all = deps.businesses.get(input.businessId)?.categories.map((c) => c.id) ?? [];
  const everything = !input.categories?.length || all.every((c) => input.categories!.includes(c));
  const startWorkflow = () =>
    startOptOutWorkflow(deps, input).then(
      (r): StartResult => ({ ok: true, started: r.started }),
      (err: unknown): StartResult => ({ ok: false, err }),
    );
  // One that confirms may be carried by the contact's journey instead (services/optout-carry.ts).
  const starting = input.confirmOn ? undefined : startWorkflow();
  // Asked before this call writes any event, so the answer is about earlier deliveries only.
  const first = await (opts.firstDelivery ?? firstDelivery(deps, { ...input, optOutId }, deadline));
  // The ledger write does not wait for Temporal: it is idempotent by origin, and a repeat of an
  // opt-out since undone by START finds its events and moves no consent back (store/optout-ledger.ts).
  const recording = recordWithin(deps, { ...input, optOutId }, deadline);
  const attempt: Attempt = { optOutId, input, everything, deadline, waitMs, recording, starting, startWorkflow, opts };
  return first ? firstTime(deps, attempt) : repeated(deps, attempt);
}

/**
 * The first delivery of an opt-out (no event of it in the ledger): nothing it could undo, so the block
 * goes ahead while Temporal takes the opt-out (its own workflow, or the contact's journey told to
 * carry it once the block and the ledger are settled). An opt-out a journey may carry is kept in the
 * store for the sweep beside the block and the ledger, and dropped once Temporal has it: its journey
 * is told only after those writes, so the answer would otherwise wait for them and then for Temporal.
 * The answer then waits for the store alone. Any other waits for the store plus at most
 * OPTOUT_START_GRACE_MS for Temporal, past which it is kept for the sweep: either way the answer is as
 * durable as a started workflow.
 */
async function firstTime(deps: ServiceDeps, a: Attempt): Promise<OptOutOutcome> {
  // The journey's record closes now (the opt-out's store step does it again should this fail), and a
  // journey that carries opt-outs is handed this one's step; one that does not is told to end at once.
  const contactRead = a.opts.currentJourneyId === undefined ? undefined : Promise.resolve({ currentJourneyId: a.opts.currentJourneyId });
  const blocking = a.everything ? blockWithin(deps, a.input, a.deadline, a.opts) : undefined;
  const settled = Promise.all([blocking, a.recording]);
  const carrying = carryToJourney(deps, a.input, a.optOutId, { contactRead, applied: settled.then(([blocked, recorded]) => appliedHere(deps, a, blocked, recorded)) });
  const starting = a.starting ?? carrying.then((carried) => (carried ? CARRIED : a.startWorkflow()));
  const keptAhead = a.starting ? undefined : keepBeside(deps, a.optOutId, a.input, starting, a.deadline);
  const [blocked, recorded] = await settled;
  if (await keptAhead) {
    // A first delivery kept for Temporal is as new an opt-out as one whose workflow it started.
    if (!blocked) return { optOutId: a.optOutId, started: true, progress: 'accepted', recorded };
    return blockOutcome(a, blocked, { started: true, kept: true, ahead: true, recorded });
  }
  const { start, kept } = await startOrKeep(deps, a.optOutId, a.input, starting, OPTOUT_START_GRACE_MS);
  const started = start?.ok ? start.started : false;
  if (!blocked) return { optOutId: a.optOutId, started, progress: kept ? 'queued' : 'accepted', recorded };
  return blockOutcome(a, blocked, { started, kept, recorded });
}

/**
 * What this acknowledgement applied itself, when that is all of an opt-out of everything: the
 * contact blocked (no send of theirs still at the provider) and the ledger written. Undefined when
 * anything is left for the opt-out's step to do.
 */
function appliedHere(deps: ServiceDeps, a: Attempt, blocked: BlockStep | undefined, recorded: boolean): ContactBlocked | undefined {
  const business = deps.businesses.get(a.input.businessId);
  if (!business || !a.everything || !recorded || !blocked?.block?.blocked || blocked.block.inFlight > 0) return undefined;
  return { ...optOutScope(business, a.input.categories), blocked: true, at: new Date().toISOString() };
}

/**
 * A repeated delivery, or one the store could not tell apart from it: the block waits for Temporal's
 * answer, since blocking again after the contact's START would undo that START.
 */
async function repeated(deps: ServiceDeps, a: Attempt): Promise<OptOutOutcome> {
  // One a journey carried has no workflow to ask: its confirmation, claimed after the block, says it is
  // done, and a workflow started now would block again, undoing a START sent since. Asked briefly, and
  // not at all once the store has used up the answer's time (then it would not answer this either).
  const claimed = await withinMs(
    confirmationClaimed(deps, a.input, a.optOutId).catch(() => false),
    Math.min(CLAIMED_WAIT_MS, Math.max(0, a.deadline - Date.now())),
  );
  if (claimed) return { optOutId: a.optOutId, started: false, progress: 'already_done' };
  const { start, kept } = await startOrKeep(deps, a.optOutId, a.input, a.starting ?? a.startWorkflow(), Math.min(OPTOUT_START_WAIT_MS, a.waitMs));
  const started = start?.ok ? start.started : false;
  if (a.everything && start?.ok && !start.started) {
    // Only while the first delivery's opt-out still runs: a finished one may since have been undone by START.
    const status = await runStatus(deps.client.workflow.getHandle(a.optOutId)).catch(() => 'UNKNOWN');
    if (status !== 'RUNNING') return { optOutId: a.optOutId, started: false, progress: 'already_done' };
  }
  if (!a.everything) return { optOutId: a.optOutId, started, progress: kept ? 'queued' : 'accepted', recorded: await a.recording };
  const [blocked, recorded] = await Promise.all([blockWithin(deps, a.input, a.deadline), a.recording]);
  return blockOutcome(a, blocked, { started, kept, recorded });
}

/** `ahead`: kept beside the acknowledgement's writes, not because Temporal failed to take it in time. */
function blockOutcome(a: Attempt, { block, err }: BlockStep, s: { started: boolean; kept: boolean; ahead?: boolean; recorded: boolean }): OptOutOutcome {
  const pending = (detail: string): OptOutOutcome => ({ optOutId: a.optOutId, started: s.started, progress: 'pending', recorded: s.recorded, detail });
  if (err) return pending(`could not block in the store: ${err.message}`);
  if (!block) return pending(`the store did not finish the block within ${a.waitMs} ms`);
  if (!block.blocked) return pending('the contact opted back in later');
  if (block.inFlight > 0) return pending(`${block.inFlight} send(s) still at the provider`);
  if (!s.recorded && !s.kept) return pending(`the ledger events were not written within ${a.waitMs} ms; the workflow writes them`);
  return { optOutId: a.optOutId, started: s.started, progress: s.kept && !s.ahead ? 'queued' : 'blocked', recorded: s.recorded };
}

/** True when this origin's earlier opt-out has finished and the contact may be messaged again (an old link used anew). */
export async function optedBackInSince(deps: ServiceDeps, input: OptOutInput): Promise<boolean> {
  if ((await runStatus(deps.client.workflow.getHandle(optOutWorkflowId(input.origin)))) !== 'COMPLETED') return false;
  return !(await readBlocked(deps.store, input.contactId));
}

/** Waits up to waitMs for an opt-out's workflow to finish (its ledger written); false when it has not yet. */
export async function optOutFinished(deps: ServiceDeps, optOutId: string, waitMs: number): Promise<boolean> {
  return (await closedWithinMs(deps.client, optOutId, waitMs)) === 'closed';
}
