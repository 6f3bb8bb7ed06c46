import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { canConnect } from '../../dev/free-port';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';

/**
 * The tests' servers run detached, in process groups of their own, so a Jest killed before its
 * teardown (SIGKILL, a closed terminal, a tool's time limit) would leave them running. The
 * harness's watchdog stops them.
 */

jest.setTimeout(180_000);

const repoRoot = path.resolve(__dirname, '..', '..');

interface HarnessReport {
  workDir: string;
  pids: number[];
  temporal: string;
  mongodb: string;
}

/** Running and not a zombie (one that exited and waits to be collected by its new parent). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

let holder: ManagedProcess | undefined;
let report: HarnessReport | undefined;

afterAll(async () => {
  // Whatever the outcome, leave nothing of this test running.
  for (const pid of report?.pids ?? []) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await holder?.stop(1_000);
  // The watchdog inherited the holder's stderr and may still be waiting out its grace period.
  holder?.child.stdout?.destroy();
  holder?.child.stderr?.destroy();
  if (report) rmSync(report.workDir, { recursive: true, force: true });
});

test('servers started by the harness stop when the process that started them is killed with SIGKILL', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Servers of its own, not the ones this run's harness started or someone else runs.
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'OPTINFLOW_TEST_TEMPORAL']) delete env[name];
  const started = startNodeProcess({ name: 'harness-holder', entry: path.join(repoRoot, 'test', 'fixtures', 'harness-holder.ts'), env, cwd: repoRoot });
  holder = started;
  await waitUntil(() => started.tail(20).some((line) => line.startsWith('HARNESS ')), { timeoutMs: 120_000, intervalMs: 250, what: 'the harness to start its servers', process: started });
  const found = started.tail(20).find((line) => line.startsWith('HARNESS '))!;
  const harness = JSON.parse(found.slice('HARNESS '.length)) as HarnessReport;
  report = harness;

  const temporalPort = Number(harness.temporal.split(':').pop());
  const mongoPort = Number(new URL(harness.mongodb).port);
  expect(harness.pids).toHaveLength(2);
  expect(harness.pids.every(alive)).toBe(true);
  expect(await canConnect(temporalPort, '127.0.0.1')).toBe(true);
  expect(await canConnect(mongoPort, '127.0.0.1')).toBe(true);

  process.kill(started.child.pid!, 'SIGKILL');
  expect(await started.exited).toMatchObject({ signal: 'SIGKILL' });

  await waitUntil(() => !harness.pids.some(alive), { timeoutMs: 20_000, intervalMs: 250, what: 'the servers to exit' }).catch(() => undefined);
  expect(harness.pids.filter(alive)).toEqual([]);
  expect(await canConnect(temporalPort, '127.0.0.1')).toBe(false);
  expect(await canConnect(mongoPort, '127.0.0.1')).toBe(false);
});
