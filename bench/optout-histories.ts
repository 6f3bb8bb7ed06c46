import { OPTOUT_WORKFLOW_TYPE } from '../workflows/optout/contract';
import { printCosts, summarize, unitCost } from './actions';
import { percentile } from './helpers';
import type { BenchStack } from './stack';

/** What bench:optout reads from the opt-out workflows' histories once its STOPs are done. */

const ms = (t: unknown) => {
  if (!t) return NaN;
  const ts = t as { seconds?: { toNumber?: () => number } | number | string; nanos?: number };
  const seconds = typeof ts.seconds === 'object' && ts.seconds?.toNumber ? ts.seconds.toNumber() : Number(ts.seconds ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
};

/**
 * Reads the histories of up to 60 opt-out workflows and prints where their time went: waiting in the
 * task queue for a workflow task or an activity slot (the worker is busy) versus running activities
 * (mostly the store). Tells which of the two to make faster.
 */
export async function printWhereTimeWent(stack: BenchStack): Promise<void> {
  const wftWait: number[] = [];
  const actWait = new Map<string, number[]>();
  const actRun = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const ids: string[] = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowType = '${OPTOUT_WORKFLOW_TYPE}'` })) {
    ids.push(w.workflowId);
    if (ids.length >= 60) break;
  }
  for (const id of ids) {
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const scheduled = new Map<number, { at: number; type: string }>();
    const started = new Map<number, number>();
    let wftScheduled = NaN;
    for (const e of history.events ?? []) {
      const at = ms(e.eventTime);
      const eventId = Number(e.eventId);
      if (e.workflowTaskScheduledEventAttributes) wftScheduled = at;
      if (e.workflowTaskStartedEventAttributes && !Number.isNaN(wftScheduled)) wftWait.push(at - wftScheduled);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(eventId, { at, type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?' });
      if (e.activityTaskStartedEventAttributes) {
        const s = scheduled.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId));
        if (s) push(actWait, s.type, at - s.at);
        started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), at);
      }
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (done) {
        const sid = Number(done.scheduledEventId);
        const s = scheduled.get(sid);
        const st = started.get(sid);
        if (s && st !== undefined) push(actRun, s.type, at - st);
      }
    }
  }
  const p = (xs: number[] | undefined, q: number) => String(Math.round(percentile(xs ?? [], q * 100))).padStart(8);
  console.log('');
  console.log(`where the time went, from ${ids.length} opt-out workflow histories (ms; wait = queued for the worker, run = the activity itself):`);
  console.log(`${''.padEnd(34)}${'p50'.padStart(8)}${'p99'.padStart(8)}`);
  console.log(`${'workflow task wait'.padEnd(34)}${p(wftWait, 0.5)}${p(wftWait, 0.99)}`);
  for (const [type, xs] of actWait) {
    console.log(`${`${type} wait`.padEnd(34)}${p(xs, 0.5)}${p(xs, 0.99)}`);
    console.log(`${`${type} run`.padEnd(34)}${p(actRun.get(type), 0.5)}${p(actRun.get(type), 0.99)}`);
  }
}

const ACTION_SAMPLE = 20;

/**
 * What an opt-out costs Temporal: its own workflow's history plus the signal that ends the journey
 * (counted where it is sent; the journey's own ending is the journey's cost), over a sample.
 */
export async function printActionCounts(stack: BenchStack): Promise<void> {
  const ids: string[] = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowType = '${OPTOUT_WORKFLOW_TYPE}' AND TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Completed'` })) {
    ids.push(w.workflowId);
    if (ids.length >= ACTION_SAMPLE) break;
  }
  const units = [];
  for (const id of ids) units.push(await unitCost(stack.client, [id]));
  printCosts('Temporal per opt-out (STOP by SMS while a journey runs), from the opt-out workflows\' histories (mean):', [{ name: 'Optinflow', summary: summarize(units) }]);
}
