import type { Client, WorkflowHandle } from '@temporalio/client';

/**
 * What a unit of work (a confirmed journey, an opt-out) costs Temporal, read from the real histories
 * of every workflow it caused, and its sum as Temporal Cloud billable actions.
 *
 * Temporal Cloud counts as one action each (https://docs.temporal.io/cloud/actions): a workflow
 * started (client start, continue-as-new; a child workflow is two: the start and the execution), an
 * activity started or retried (every attempt), the local activities of one workflow task together
 * (Cloud counts the RecordMarker commands of a workflow task as one action), a timer started
 * (`condition` with a timeout starts one), an UpsertSearchAttributes command (attributes given at
 * start and TemporalChangeVersion are free), a signal sent (from a client or a workflow;
 * signal-with-start is one), an update received by the worker, a query received by the worker, an
 * activity heartbeat that reaches the server. Queries and heartbeats leave nothing in a history, so
 * they are not in these counts (the benchmarks send no queries; no activity here heartbeats).
 * Workflow tasks and history events are not billed but are most of the server's and worker's work.
 */

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

export interface ActionCounts {
  workflowsStarted: number;
  workflowTasks: number;
  historyEvents: number;
  /** Activity attempts (each start and retry is an action). */
  activities: number;
  localActivities: number;
  /** Workflow tasks that recorded local-activity markers: what Cloud bills for local activities. */
  localActivityTasks: number;
  signals: number;
  timers: number;
  searchAttributeUpserts: number;
  updates: number;
}

export const ACTION_ROWS: ReadonlyArray<{ key: keyof ActionCounts; label: string }> = [
  { key: 'workflowsStarted', label: 'workflows started' },
  { key: 'workflowTasks', label: 'workflow tasks' },
  { key: 'historyEvents', label: 'history events' },
  { key: 'activities', label: 'activities (attempts)' },
  { key: 'localActivities', label: 'local activities' },
  { key: 'localActivityTasks', label: '  billed: tasks with markers' },
  { key: 'signals', label: 'signals' },
  { key: 'timers', label: 'timers' },
  { key: 'searchAttributeUpserts', label: 'search-attribute upserts' },
  { key: 'updates', label: 'updates' },
];

/** The Temporal Cloud actions in a set of counts. */
export function billableActions(c: ActionCounts): number {
  return c.workflowsStarted + c.activities + c.localActivityTasks + c.signals + c.timers + c.searchAttributeUpserts + c.updates;
}

export function emptyCounts(): ActionCounts {
  return { workflowsStarted: 0, workflowTasks: 0, historyEvents: 0, activities: 0, localActivities: 0, localActivityTasks: 0, signals: 0, timers: 0, searchAttributeUpserts: 0, updates: 0 };
}

export function addCounts(a: ActionCounts, b: ActionCounts): ActionCounts {
  const sum = emptyCounts();
  for (const { key } of ACTION_ROWS) sum[key] = a[key] + b[key];
  return sum;
}

/** One workflow of a unit: its counts and what its actions were, by name, for the breakdown. */
export interface WorkflowCost {
  workflowId: string;
  workflowType: string;
  counts: ActionCounts;
  /** "activity send", "local recordConsent", "signal providerStatus", "upsert OptinStatus", ... → how many. */
  items: Map<string, number>;
}

export interface UnitCost {
  workflows: WorkflowCost[];
  total: ActionCounts;
}

const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** The local activity a core_local_activity marker records, from the marker's JSON data. */
export function localActivityType(e: HistoryEvent): string {
  try {
    const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    return data ? String(JSON.parse(Buffer.from(data).toString('utf8')).activity_type ?? '?') : '?';
  } catch {
    return '?';
  }
}

/**
 * Counts one workflow's history. `inUnit` says which workflow ids are counted with it: a signal
 * between two of them is counted once, where it is received; one sent outside is counted where sent.
 */
function costOf(workflowId: string, history: History, inUnit: (id: string) => boolean): { cost: WorkflowCost; causes: string[] } {
  const counts = emptyCounts();
  const items = new Map<string, number>();
  const causes: string[] = [];
  let workflowType = '?';
  const lamTasks = new Set<string>();
  for (const e of history.events ?? []) {
    counts.historyEvents++;
    if (e.workflowExecutionStartedEventAttributes) {
      counts.workflowsStarted++;
      workflowType = e.workflowExecutionStartedEventAttributes.workflowType?.name ?? '?';
    }
    if (e.workflowTaskCompletedEventAttributes) counts.workflowTasks++;
    // A task that waited past its schedule-to-start timeout on the worker's sticky queue goes back to
    // the task queue with the whole history: not billed, but a replay for the worker.
    if (e.workflowTaskTimedOutEventAttributes) bump(items, 'workflow task timed out');
    if (e.activityTaskScheduledEventAttributes) bump(items, `activity ${e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'}`);
    if (e.activityTaskStartedEventAttributes) counts.activities += Math.max(1, e.activityTaskStartedEventAttributes.attempt ?? 1);
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      counts.localActivities++;
      lamTasks.add(String(marker.workflowTaskCompletedEventId));
      bump(items, `local ${localActivityType(e)}`);
    }
    const signaled = e.workflowExecutionSignaledEventAttributes;
    if (signaled) {
      counts.signals++;
      bump(items, `signal ${signaled.signalName} (${signaled.externalWorkflowExecution?.workflowId ? 'from a workflow' : 'from a client'})`);
      const sender = signaled.externalWorkflowExecution?.workflowId;
      if (sender) causes.push(sender);
    }
    const sent = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    if (sent && !inUnit(sent.workflowExecution?.workflowId ?? '')) {
      counts.signals++;
      bump(items, `signal ${sent.signalName} (sent to ${sent.workflowExecution?.workflowId?.split('.')[0] ?? '?'})`);
    }
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child?.workflowId) causes.push(child.workflowId);
    if (e.timerStartedEventAttributes) {
      counts.timers++;
      bump(items, 'timer');
    }
    const upsert = e.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert) {
      const keys = Object.keys(upsert.searchAttributes?.indexedFields ?? {}).filter((k) => k !== 'TemporalChangeVersion');
      if (keys.length > 0) {
        counts.searchAttributeUpserts++;
        bump(items, `upsert ${keys.join('+')}`);
      }
    }
    if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      counts.updates++;
      bump(items, `update ${e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? '?'}`);
    }
  }
  counts.localActivityTasks = lamTasks.size;
  return { cost: { workflowId, workflowType, counts, items }, causes };
}

/**
 * Fetches the histories of a unit's workflows: the `seeds` and every workflow they caused that left
 * a trace in them (senders of the signals they received, children they started), plus `related`
 * ids known from outside (the inbound workflow of each reply). Closed runs only: call after they end.
 * `fetched` holds histories the caller already read, so they are not fetched again.
 */
export async function unitCost(client: Client, seeds: string[], related: string[] = [], fetched: ReadonlyMap<string, History> = new Map()): Promise<UnitCost> {
  const ids = new Set([...seeds, ...related]);
  const histories = new Map<string, History>(fetched);
  const queue = [...ids];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (histories.has(id)) continue;
    const history = await client.workflow.getHandle(id).fetchHistory().catch(() => undefined);
    if (!history) continue;
    histories.set(id, history);
    for (const cause of costOf(id, history, () => true).causes) {
      if (!ids.has(cause)) {
        ids.add(cause);
        queue.push(cause);
      }
    }
  }
  const workflows = [...histories].map(([id, h]) => costOf(id, h, (other) => histories.has(other)).cost);
  return { workflows, total: workflows.reduce((sum, w) => addCounts(sum, w.counts), emptyCounts()) };
}

/** Averages over units, per unit and per workflow type. */
export interface CostSummary {
  units: number;
  perUnit: ActionCounts;
  byType: Map<string, { perUnit: ActionCounts; items: Map<string, number> }>;
}

export function summarize(units: UnitCost[]): CostSummary {
  const n = Math.max(1, units.length);
  const mean = (c: ActionCounts) => {
    const m = emptyCounts();
    for (const { key } of ACTION_ROWS) m[key] = c[key] / n;
    return m;
  };
  const byType = new Map<string, { total: ActionCounts; items: Map<string, number> }>();
  for (const u of units) {
    for (const w of u.workflows) {
      const t = byType.get(w.workflowType) ?? { total: emptyCounts(), items: new Map<string, number>() };
      t.total = addCounts(t.total, w.counts);
      for (const [k, v] of w.items) bump(t.items, k, v);
      byType.set(w.workflowType, t);
    }
  }
  return {
    units: units.length,
    perUnit: mean(units.reduce((s, u) => addCounts(s, u.total), emptyCounts())),
    byType: new Map([...byType].map(([type, t]) => [type, { perUnit: mean(t.total), items: new Map([...t.items].map(([k, v]) => [k, v / n])) }])),
  };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/**
 * Prints per-unit counts side by side: one column per summary (e.g. Optinflow and bare), and for
 * the first summary one column per workflow type, then where each type's actions come from.
 */
export function printCosts(title: string, columns: Array<{ name: string; summary: CostSummary }>): void {
  const [first] = columns;
  const typeColumns = first && first.summary.byType.size > 1 ? [...first.summary.byType].map(([type, t]) => ({ name: `  ${type}`, counts: t.perUnit })) : [];
  const all = [...columns.map((c) => ({ name: `${c.name} (n=${c.summary.units})`, counts: c.summary.perUnit })), ...typeColumns];
  const width = Math.max(14, ...all.map((c) => c.name.length + 2));
  console.log('');
  console.log(title);
  console.log(`${''.padEnd(30)}${all.map((c) => c.name.padStart(width)).join('')}`);
  for (const { key, label } of ACTION_ROWS) console.log(`${label.padEnd(30)}${all.map((c) => fmt(c.counts[key]).padStart(width)).join('')}`);
  console.log(`${'billable actions'.padEnd(30)}${all.map((c) => fmt(billableActions(c.counts)).padStart(width)).join('')}`);
  for (const c of columns) {
    for (const [type, t] of c.summary.byType) {
      const items = [...t.items].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${fmt(v)}`);
      console.log(`  ${c.name} / ${type}: ${items.join(', ')}`);
    }
  }
}
