import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `--profiles dev,cluster` for the benchmarks: one invocation runs the benchmark once per Temporal
 * profile, each in its own child process on its own fresh servers (so nothing of the first run's
 * servers, caches or memory is left to help or hurt the second), then prints the summaries side by
 * side. Each run keeps its own bare baseline on its own server, so every ratio compares designs on
 * the same server and the profiles compare the servers.
 */

export type TemporalProfile = 'dev' | 'cluster';
const PROFILES: readonly TemporalProfile[] = ['dev', 'cluster'];

/** Set in a child run: where it writes its summary for the parent. */
const SUMMARY_FILE_VAR = 'OPTINFLOW_BENCH_SUMMARY_FILE';
const repoRoot = path.resolve(__dirname, '..');

/** One figure of a run: its value, and the ratio to the run's baseline when the row has one. */
export interface SummaryRow {
  label: string;
  value: number;
  baseline?: number;
}

export interface BenchSummary {
  profile: TemporalProfile;
  rows: SummaryRow[];
  notes: string[];
}

/** The profiles `--profiles` names (comma-separated), or undefined when the option is absent; the other arguments unchanged. */
export function profilesOption(argv: readonly string[]): { profiles: TemporalProfile[] | undefined; rest: string[] } {
  const i = argv.indexOf('--profiles');
  if (i < 0) return { profiles: undefined, rest: [...argv] };
  const names = (argv[i + 1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !PROFILES.includes(n as TemporalProfile));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--profiles takes a comma-separated list of ${PROFILES.join(', ')} (got "${argv[i + 1] ?? ''}")`);
  return { profiles: [...new Set(names)] as TemporalProfile[], rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
}

/** The profile this process runs on: the cluster when OPTINFLOW_TEMPORAL_PROFILE (bench stack) or OPTINFLOW_TEST_TEMPORAL (test harness) says so. */
export function currentProfile(env: NodeJS.ProcessEnv = process.env): TemporalProfile {
  return env.OPTINFLOW_TEMPORAL_PROFILE === 'cluster' || env.OPTINFLOW_TEST_TEMPORAL === 'cluster' ? 'cluster' : 'dev';
}

/** In a child run, hands the summary to the parent; alone, does nothing. */
export function reportSummary(summary: BenchSummary): void {
  const file = process.env[SUMMARY_FILE_VAR];
  if (file) writeFileSync(file, JSON.stringify(summary));
}

function runChild(script: string, args: string[], profile: TemporalProfile, summaryFile: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, [SUMMARY_FILE_VAR]: summaryFile };
  delete env.OPTINFLOW_TEMPORAL_PROFILE;
  delete env.OPTINFLOW_TEST_TEMPORAL;
  if (profile === 'cluster') Object.assign(env, { OPTINFLOW_TEMPORAL_PROFILE: 'cluster', OPTINFLOW_TEST_TEMPORAL: 'cluster' });
  const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), [script, ...args], { cwd: repoRoot, env, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group; the parent only waits for it to stop its servers.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 130 : 1));
    });
  });
}

const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Runs `script` once per profile (in this order) and prints their summaries side by side. Returns the worst exit code. */
export async function runProfiles(script: string, args: string[], profiles: TemporalProfile[], baselineName: string): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-bench-profiles-'));
  const summaries: BenchSummary[] = [];
  let worst = 0;
  try {
    for (const profile of profiles) {
      console.log(`\n===== ${path.basename(script)} on the ${profile === 'dev' ? 'dev server' : 'cluster'} profile (${new Date().toISOString()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}) =====`);
      const file = path.join(dir, `${profile}.json`);
      const code = await runChild(script, args, profile, file);
      worst = Math.max(worst, code);
      try {
        summaries.push(JSON.parse(readFileSync(file, 'utf8')) as BenchSummary);
      } catch {
        console.log(`(no summary from the ${profile} run: it exited ${code})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printSideBySide(summaries, baselineName);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
  return worst;
}

function printSideBySide(summaries: BenchSummary[], baselineName: string): void {
  if (summaries.length === 0) return;
  const labels = [...new Set(summaries.flatMap((s) => s.rows.map((r) => r.label)))];
  const w = 12;
  const head = summaries.flatMap((s) => [`${s.profile} ${baselineName}`, `${s.profile}`, `${s.profile} ratio`]);
  const cross = summaries.length === 2 ? `${summaries[1].profile}/${summaries[0].profile}` : undefined;
  console.log('');
  console.log(`side by side: each profile's own ${baselineName} baseline on its own server, Optinflow, and Optinflow/${baselineName}${cross ? `; then Optinflow ${cross}` : ''}`);
  console.log(`${''.padEnd(28)}${head.map((h) => h.padStart(w + 2)).join('')}${cross ? cross.padStart(w + 2) : ''}`);
  for (const label of labels) {
    const cells = summaries.flatMap((s) => {
      const r = s.rows.find((x) => x.label === label);
      const ratio = r?.baseline ? r.value / r.baseline : undefined;
      return [fmt(r?.baseline), fmt(r?.value), fmt(ratio)];
    });
    const [a, b] = summaries.map((s) => s.rows.find((x) => x.label === label)?.value);
    const crossCell = cross ? fmt(a && b !== undefined ? b / a : undefined).padStart(w + 2) : '';
    console.log(`${label.padEnd(28)}${cells.map((c) => c.padStart(w + 2)).join('')}${crossCell}`);
  }
  for (const s of summaries) for (const n of s.notes) console.log(`${s.profile}: ${n}`);
}
