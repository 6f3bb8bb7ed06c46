import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { testWorkflowBundle } from '../harness/servers';

/**
 * `npm start`'s supervisor with its real components (Temporal dev server, FerretDB, carrier,
 * worker, API) on free ports and its own data directory, killed with SIGKILL: nothing it started
 * may keep running. On the way, the worker runs at the lower priority the launcher gives it.
 */

jest.setTimeout(240_000);

const repoRoot = path.resolve(__dirname, '..', '..');

interface ProcessRow {
  pid: number;
  ppid: number;
  stat: string;
  args: string;
}

function processTable(): ProcessRow[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), stat: m[3], args: m[4] }));
}

/** Every process below `root`, however deep. */
function descendantsOf(root: number): ProcessRow[] {
  const table = processTable();
  const found: ProcessRow[] = [];
  let parents = new Set([root]);
  while (parents.size > 0) {
    const children = table.filter((p) => parents.has(p.ppid));
    found.push(...children);
    parents = new Set(children.map((p) => p.pid));
  }
  return found;
}

/** Those of `processes` still running: same pid and command line (pids are reused), and not a zombie, which has exited and waits for its parent to collect it. */
function running(processes: ProcessRow[]): ProcessRow[] {
  const wanted = new Set(processes.map((p) => `${p.pid} ${p.args}`));
  return processTable().filter((p) => wanted.has(`${p.pid} ${p.args}`) && !p.stat.startsWith('Z'));
}

let dataDir: string;
let supervisor: ManagedProcess | undefined;
let started: ProcessRow[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-start-'));
});

afterAll(async () => {
  // Whatever the outcome, leave no server of this test running (each was the leader of its own group).
  for (const p of running(started)) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      process.kill(p.pid, 'SIGKILL');
    }
  }
  await supervisor?.stop(1_000);
  rmSync(dataDir, { recursive: true, force: true });
});

test('a supervisor killed with SIGKILL takes every component with it', async () => {
  const ports = {
    TEMPORAL_PORT: await findFreePort(),
    TEMPORAL_UI_PORT: await findFreePort(),
    FERRETDB_PORT: await findFreePort(),
    CARRIER_PORT: await findFreePort(),
    CARRIER_SMTP_PORT: await findFreePort(),
    API_PORT: await findFreePort(),
  };
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DATA_DIR: dataDir, WORKFLOW_BUNDLE_PATH: testWorkflowBundle().codePath };
  // Components of its own, not servers someone else runs.
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'CARRIER_INBOUND_URL', 'PUBLIC_BASE_URL', 'API_KEYS', 'TWILIO_API_BASE_URL', 'SMTP_URL']) delete env[name];

  delete env.WORKER_NICE;
  const stack = startNodeProcess({ name: 'supervisor', entry: path.join(repoRoot, 'dev', 'start.ts'), env, cwd: repoRoot });
  supervisor = stack;
  await waitUntil(() => stack.tail(60).some((line) => line.includes('Optinflow is running')), { timeoutMs: 180_000, intervalMs: 500, what: 'the stack to report it is running', process: stack });

  started = descendantsOf(stack.child.pid!);
  const components = ['temporal', 'ferretdb', 'carrier/main.ts', 'workers/main.ts', 'api/server.ts'];
  for (const component of components) expect(started.map((p) => p.args).join('\n')).toContain(component);
  // The worker yields the CPU to the API (WORKER_NICE, 10 by default: dev/cpu-priority.ts).
  const niceOf = (component: string) => Number(execFileSync('ps', ['-o', 'ni=', '-p', String(started.find((p) => p.args.includes(component))!.pid)], { encoding: 'utf8' }).trim());
  expect([niceOf('workers/main.ts'), niceOf('api/server.ts')]).toEqual([10, 0]);

  process.kill(stack.child.pid!, 'SIGKILL');
  expect(await stack.exited).toMatchObject({ signal: 'SIGKILL' });

  await waitUntil(() => running(started).length === 0, { timeoutMs: 15_000, intervalMs: 250, what: 'every component to exit' }).catch(() => undefined);
  expect(running(started).map((p) => `${p.pid} ${p.args}`)).toEqual([]);
});
