import { OPTOUT_WORKFLOW_TYPE } from '../workflows/optout/contract';
import { addCounts, emptyCounts, printCosts, summarize, unitCost, type History, type WorkflowCost } from './actions';
import { journeyWorkflowId } from '../workflows/journey/contract';
import { percentile } from './helpers';
import type { BenchStack } from './stack';
import { carriedCost, eventMs as ms } from './optout-carried';

/** What bench:optout reads from the opt-out workflows' histories once its STOPs are done. */

/** Whose opt-out a history is (its start input), or undefined when the input cannot be read. */
function optOutInputOf(history: History): { businessId: string; contactId: string } | undefined {
  const data = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const input = JSON.parse(Buffer.from(data).toString('utf8')) as { businessId?: string; contactId?: string };
    return input.businessId && input.contactId ? { businessId: input.businessId, contactId: input.contactId } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the opt-out workflows' histories and prints where their time went: from the STOP to each step
 * of the workflow (started, its first workflow task taken, its activity taken and done, closed), and
 * per step the wait in the task queue for the worker (workflow tasks, activity slots) against the
 * activities' own run time. Tells whether an opt-out waits for Temporal's start, for the worker, or
 * for the store.
 */
export async function printWhereTimeWent(stack: BenchStack, stopAt: Map<string, number>): Promise<void> {
  const wftWait: number[] = [];
  const actWait = new Map<string, number[]>();
  const actRun = new Map<string, number[]>();
  const fromStop = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const ids: string[] = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowType = '${OPTOUT_WORKFLOW_TYPE}' AND TaskQueue = '${stack.taskQueue}'` })) ids.push(w.workflowId);
  for (const id of ids) {
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const contactId = optOutInputOf(history)?.contactId;
    const stop = contactId ? stopAt.get(contactId) : undefined;
    const marked = new Set<string>();
    // The first time each step happened in this run, from its STOP.
    const mark = (step: string, at: number) => {
      if (stop === undefined || marked.has(step)) return;
      marked.add(step);
      push(fromStop, step, at - stop);
    };
    const scheduled = new Map<number, { at: number; type: string }>();
    const started = new Map<number, number>();
    let wftScheduled = NaN;
    for (const e of history.events ?? []) {
      const at = ms(e.eventTime);
      const eventId = Number(e.eventId);
      if (e.workflowExecutionStartedEventAttributes) mark('workflow started', at);
      if (e.workflowTaskScheduledEventAttributes) wftScheduled = at;
      if (e.workflowTaskStartedEventAttributes && !Number.isNaN(wftScheduled)) {
        wftWait.push(at - wftScheduled);
        mark('first workflow task taken', at);
      }
      if (e.activityTaskScheduledEventAttributes) scheduled.set(eventId, { at, type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?' });
      if (e.activityTaskStartedEventAttributes) {
        const s = scheduled.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId));
        if (s) {
          push(actWait, s.type, at - s.at);
          mark(`${s.type} taken`, at);
        }
        started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), at);
      }
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (done) {
        const sid = Number(done.scheduledEventId);
        const s = scheduled.get(sid);
        const st = started.get(sid);
        if (s && st !== undefined) {
          push(actRun, s.type, at - st);
          mark(`${s.type} done`, at);
        }
      }
      if (e.workflowExecutionCompletedEventAttributes) mark('workflow closed', at);
    }
  }
  const p = (xs: number[] | undefined, q: number) => String(Math.round(percentile(xs ?? [], q * 100))).padStart(8);
  const row = (name: string, xs: number[] | undefined) => console.log(`${name.padEnd(34)}${p(xs, 0.5)}${p(xs, 0.99)}${String(xs?.length ?? 0).padStart(8)}`);
  console.log('');
  if (!ids.length) {
    console.log('no opt-out ran a workflow of its own (each was carried by its journey, or none was started)');
    return;
  }
  console.log(`where the time went, from ${ids.length} opt-out workflow histories (ms; wait = queued for the worker, run = the activity itself):`);
  console.log(`${''.padEnd(34)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'n'.padStart(8)}`);
  for (const step of ['workflow started', 'first workflow task taken', ...[...actWait.keys()].flatMap((t) => [`${t} taken`, `${t} done`]), 'workflow closed']) row(`STOP to ${step}`, fromStop.get(step));
  row('workflow task wait', wftWait);
  for (const [type, xs] of actWait) {
    row(`${type} wait`, xs);
    row(`${type} run`, actRun.get(type));
  }
}

const ACTION_SAMPLE = 20;

/**
 * The optedOut signal an opt-out's activity (and its acknowledgement, under the same request id) sent
 * the journey as a client: in no history of the opt-out's own, so read from the journey's, matched by
 * the opt-out's id. Undefined when the opt-out's workflow signalled the journey itself (older types).
 */
async function journeySignalFromClient(stack: BenchStack, optOutId: string, optOut: History): Promise<WorkflowCost | undefined> {
  const whose = optOutInputOf(optOut);
  if (!whose) return undefined;
  const journeyId = journeyWorkflowId(whose.businessId, whose.contactId);
  const journey = await stack.client.workflow.getHandle(journeyId).fetchHistory().catch(() => undefined);
  const signals = (journey?.events ?? []).filter((e) => {
    const s = e.workflowExecutionSignaledEventAttributes;
    if (s?.signalName !== 'optedOut' || s.externalWorkflowExecution?.workflowId) return false;
    const data = s.input?.payloads?.[0]?.data;
    return !!data && (JSON.parse(Buffer.from(data).toString('utf8')) as { optOutId?: string }).optOutId === optOutId;
  }).length;
  if (!signals) return undefined;
  return { workflowId: journeyId, workflowType: 'journey (the signal it was sent)', counts: { ...emptyCounts(), signals }, items: new Map([['signal optedOut (from a client)', signals]]) };
}

/**
 * What an opt-out costs Temporal, over a sample of each kind: one that ran its own workflow (its
 * history plus the signal that ends the journey, counted where it is sent; the journey's own ending
 * is the journey's cost), and one its journey carried (./optout-carried.ts).
 */
export async function printActionCounts(stack: BenchStack, carried: Map<string, History>, businessId: string): Promise<void> {
  const ids: string[] = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowType = '${OPTOUT_WORKFLOW_TYPE}' AND TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Completed'` })) {
    ids.push(w.workflowId);
    if (ids.length >= ACTION_SAMPLE) break;
  }
  const units = [];
  for (const id of ids) {
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const unit = await unitCost(stack.client, [id], [], new Map([[id, history]]));
    const told = await journeySignalFromClient(stack, id, history);
    if (told) {
      unit.workflows.push(told);
      unit.total = addCounts(unit.total, told.counts);
    }
    units.push(unit);
  }
  const carriedUnits = [...carried].slice(0, ACTION_SAMPLE).map(([contactId, history]) => carriedCost(journeyWorkflowId(businessId, contactId), history));
  const columns = [
    ...(carriedUnits.length ? [{ name: 'carried by the journey', summary: summarize(carriedUnits) }] : []),
    ...(units.length ? [{ name: 'its own workflow', summary: summarize(units) }] : []),
  ];
  if (!columns.length) return;
  printCosts('Temporal per opt-out (STOP by SMS while a journey runs), from histories (mean):', columns);
}
