import { journeyWorkflowId } from '../workflows/journey/contract';
import { emptyCounts, localActivityType, type History, type UnitCost } from './actions';
import { percentile } from './helpers';
import type { BenchStack } from './stack';

/**
 * What bench:optout reads from the journeys that carried their contact's opt-out themselves
 * (journeyWorkflowV5: the optedOut signal brought the opt-out's step, no opt-out workflow ran).
 */

type HistoryEvent = NonNullable<History['events']>[number];

export const eventMs = (t: unknown) => {
  if (!t) return NaN;
  const ts = t as { seconds?: { toNumber?: () => number } | number | string; nanos?: number };
  const seconds = typeof ts.seconds === 'object' && ts.seconds?.toNumber ? ts.seconds.toNumber() : Number(ts.seconds ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
};

/** The optedOut signal in a journey's history that carried an opt-out's step, or undefined. */
function carriedSignal(history: History): HistoryEvent | undefined {
  return (history.events ?? []).find((e) => {
    const s = e.workflowExecutionSignaledEventAttributes;
    const data = s?.signalName === 'optedOut' ? s.input?.payloads?.[0]?.data : undefined;
    if (!data) return false;
    try {
      return (JSON.parse(Buffer.from(data).toString('utf8')) as { carried?: unknown }).carried !== undefined;
    } catch {
      return false;
    }
  });
}

/** The histories of the contacts' journeys that carried their opt-out, by contact id. */
export async function carryingJourneys(stack: BenchStack, businessId: string, contactIds: Iterable<string>): Promise<Map<string, History>> {
  const found = new Map<string, History>();
  for (const contactId of contactIds) {
    const history = await stack.client.workflow
      .getHandle(journeyWorkflowId(businessId, contactId))
      .fetchHistory()
      .catch(() => undefined);
    if (history && carriedSignal(history)) found.set(contactId, history);
  }
  return found;
}

/**
 * From the STOP to each step of a carrying journey: its signal recorded, its next workflow task
 * taken (the task that runs the opt-out's step and ends the journey), the journey closed; and that
 * task's wait in the queue for the worker.
 */
export function printCarriedTimeline(journeys: Map<string, History>, stopAt: Map<string, number>): void {
  const steps = new Map<string, number[]>();
  const push = (k: string, v: number) => steps.set(k, [...(steps.get(k) ?? []), v]);
  for (const [contactId, history] of journeys) {
    const stop = stopAt.get(contactId);
    const signal = carriedSignal(history);
    if (stop === undefined || !signal) continue;
    const events = history.events ?? [];
    const after = events.slice(events.indexOf(signal));
    push('STOP to optedOut signal recorded', eventMs(signal.eventTime) - stop);
    const scheduled = after.find((e) => e.workflowTaskScheduledEventAttributes);
    const taken = after.find((e) => e.workflowTaskStartedEventAttributes);
    if (taken) push('STOP to its workflow task taken', eventMs(taken.eventTime) - stop);
    if (scheduled && taken) push('that task\'s wait for the worker', eventMs(taken.eventTime) - eventMs(scheduled.eventTime));
    const closed = after.find((e) => e.workflowExecutionCompletedEventAttributes);
    if (closed) push('STOP to journey closed', eventMs(closed.eventTime) - stop);
  }
  const p = (xs: number[] | undefined, q: number) => String(Math.round(percentile(xs ?? [], q * 100))).padStart(8);
  console.log('');
  console.log(`where the time went, from ${journeys.size} journeys that carried their opt-out (ms):`);
  console.log(`${''.padEnd(38)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'n'.padStart(8)}`);
  for (const [name, xs] of steps) console.log(`${name.padEnd(38)}${p(xs, 0.5)}${p(xs, 0.99)}${String(xs.length).padStart(8)}`);
}

/**
 * What a carried opt-out adds to Temporal: the optedOut signal and the step's local-activity marker.
 * The task that runs it is the journey's own ending task, which records a marker (finishJourney)
 * with or without the opt-out, so it bills no task of its own; no workflow starts.
 */
export function carriedCost(workflowId: string, history: History): UnitCost {
  const signal = carriedSignal(history);
  const events = history.events ?? [];
  const markers = signal ? events.slice(events.indexOf(signal)).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && ['honourAndConfirm', 'honourOptOut'].includes(localActivityType(e))) : [];
  const attempts = events.filter((e) => e.activityTaskStartedEventAttributes && signal && Number(e.eventId) > Number(signal.eventId)).reduce((n, e) => n + Math.max(1, e.activityTaskStartedEventAttributes!.attempt ?? 1), 0);
  const counts = { ...emptyCounts(), signals: signal ? 1 : 0, historyEvents: (signal ? 1 : 0) + markers.length, localActivities: markers.length, activities: attempts };
  const items = new Map<string, number>([['signal optedOut (from a client, carrying the step)', counts.signals]]);
  for (const m of markers) items.set(`local ${localActivityType(m)}`, (items.get(`local ${localActivityType(m)}`) ?? 0) + 1);
  return { workflows: [{ workflowId, workflowType: 'journey (carrying the opt-out)', counts, items }], total: counts };
}
