import { billableActions, type CostSummary } from './actions';
import type { PassFigures } from './bare/run';
import type { SummaryRow } from './profiles';
import { percentile } from './helpers';

/** The figures bench:journeys prints for its passes, and the rows it hands to `--profiles`. */

const perSecond = (n: number, ms: number) => n / (ms / 1000);
export const endToEndMs = (p: PassFigures) => p.requestsMs + p.confirmationsMs;

/** The figures of a pass; `ratio` marks the rates whose ratio to the bare passes the table prints. */
const FIGURE_ROWS: Array<{ label: string; of: (p: PassFigures) => number; ratio?: boolean }> = [
  { label: 'starts accepted /s', of: (p) => perSecond(p.count, p.acceptedMs), ratio: true },
  { label: 'requests done /s', of: (p) => perSecond(p.count, p.requestsMs), ratio: true },
  { label: 'confirmations /s', of: (p) => perSecond(p.count, p.confirmationsMs), ratio: true },
  { label: 'end to end journeys/s', of: (p) => perSecond(p.count, endToEndMs(p)), ratio: true },
  { label: 'end to end s', of: (p) => endToEndMs(p) / 1000 },
  { label: 'start -> request p50 ms', of: (p) => percentile(p.toRequest, 50) },
  { label: 'start -> request p99 ms', of: (p) => percentile(p.toRequest, 99) },
  { label: 'reply -> recorded p50 ms', of: (p) => percentile(p.toRecord, 50) },
  { label: 'reply -> recorded p99 ms', of: (p) => percentile(p.toRecord, 99) },
];

/** Optinflow's pass, and a figure's mean over the bare passes: what every ratio is taken against. */
function againstBare(passes: PassFigures[]): { optinflow: PassFigures; mean: (f: (p: PassFigures) => number) => number } {
  const optinflow = passes.find((p) => p.name === 'Optinflow')!;
  const bares = passes.filter((p) => p !== optinflow);
  return { optinflow, mean: (f) => bares.reduce((s, p) => s + f(p), 0) / bares.length };
}

export function printFigures(passes: PassFigures[], order: string, rss: { optinflow: number; bare: number; api: number; temporal?: number; bench: number }): void {
  const { optinflow, mean } = againstBare(passes);
  const w = 14;
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(w);
  console.log('');
  console.log(`order: ${order}; each pass starts once every workflow of the one before has closed`);
  console.log(`${''.padEnd(26)}${passes.map((p) => p.name.padStart(w)).join('')}${'Optinflow/bare'.padStart(w + 2)}`);
  for (const r of FIGURE_ROWS) {
    const ratio = r.ratio ? (r.of(optinflow) / mean(r.of)).toFixed(2).padStart(w + 2) : '';
    console.log(`${r.label.padEnd(26)}${passes.map((p) => f(r.of(p))).join('')}${ratio}`);
  }
  console.log('(end to end: from the first start to the last request done, plus from the first reply to the last confirmation done; the ratio is to the mean of the bare passes)');
  console.log(`peak RSS MiB: Optinflow worker ${rss.optinflow}, bare worker ${rss.bare} (whole processes); api ${rss.api}; temporal ${rss.temporal ?? 'external'}; bench+carrier ${rss.bench}`);
}

/** This run's figures for `--profiles`: Optinflow's, each beside the mean of the bare passes on the same server. */
export function summaryRows(passes: PassFigures[], rss: { optinflow: number; bare: number; temporal?: number }, costs: { optinflow: CostSummary; bare: CostSummary }, storeCommands: number): SummaryRow[] {
  const { optinflow, mean } = againstBare(passes);
  return [
    ...FIGURE_ROWS.map((r) => ({ label: r.label, value: r.of(optinflow), baseline: mean(r.of) })),
    { label: 'worker peak RSS MiB', value: rss.optinflow, baseline: rss.bare },
    { label: 'Temporal peak RSS MiB', value: rss.temporal ?? NaN },
    { label: 'workflow tasks / journey', value: costs.optinflow.perUnit.workflowTasks, baseline: costs.bare.perUnit.workflowTasks },
    { label: 'history events / journey', value: costs.optinflow.perUnit.historyEvents, baseline: costs.bare.perUnit.historyEvents },
    { label: 'billable actions / journey', value: billableActions(costs.optinflow.perUnit), baseline: billableActions(costs.bare.perUnit) },
    { label: 'store commands / journey', value: storeCommands },
  ];
}
