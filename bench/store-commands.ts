/**
 * Store commands as the embedded FerretDB counts them (`ferretdb_client_requests_total` on its debug
 * listener), by command name. Every client's commands count: the worker's, the API's and the bench's
 * own, so a benchmark reads the counter around a pass and keeps its own reads outside it.
 */
export type CommandCounts = Map<string, number>;

const REQUESTS = /^ferretdb_client_requests_total\{([^}]*)\}\s+(\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/;

export function parseCommandCounts(metrics: string): CommandCounts {
  const counts: CommandCounts = new Map();
  for (const line of metrics.split('\n')) {
    const m = REQUESTS.exec(line.trim());
    if (!m) continue;
    const command = /command="([^"]*)"/.exec(m[1])?.[1] ?? 'unknown';
    counts.set(command, (counts.get(command) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** The store's counters now; undefined when the store is not one the bench started (no metrics to read). */
export async function readCommandCounts(metricsUrl: string | undefined): Promise<CommandCounts | undefined> {
  if (!metricsUrl) return undefined;
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${metricsUrl} answered ${res.status}`);
  return parseCommandCounts(await res.text());
}

/** What happened between two readings, per unit of work (a journey), largest first. */
export function commandsPer(before: CommandCounts, after: CommandCounts, units: number): Array<[string, number]> {
  return [...after]
    .map(([command, n]): [string, number] => [command, (n - (before.get(command) ?? 0)) / units])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}

const totalOf = (per: Array<[string, number]>) => per.reduce((sum, [, n]) => sum + n, 0);

/** All commands per unit between two readings; NaN when the store was not counted (a summary row shows it as "-"). */
export function totalCommandsPer(before: CommandCounts | undefined, after: CommandCounts | undefined, units: number): number {
  return before && after ? totalOf(commandsPer(before, after, units)) : NaN;
}

/** "34.1 (find 13.2, update 9.0, ...)": the total and the commands that make up 99 % of it. */
export function formatCommandsPer(per: Array<[string, number]>): string {
  const total = totalOf(per);
  const shown: string[] = [];
  let covered = 0;
  for (const [command, n] of per) {
    if (covered >= 0.99 * total) break;
    shown.push(`${command} ${n.toFixed(1)}`);
    covered += n;
  }
  return `${total.toFixed(1)} (${shown.join(', ')})`;
}

/** The line a benchmark prints for a pass of `units`, read before and after it. */
export function describeCommandsPer(before: CommandCounts | undefined, after: CommandCounts | undefined, units: number): string {
  if (!before || !after) return 'not counted (MONGODB_URI names a store the bench did not start)';
  return `${formatCommandsPer(commandsPer(before, after, units))}, as FerretDB counted them`;
}
