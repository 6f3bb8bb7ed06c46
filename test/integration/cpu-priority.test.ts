import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnManaged, waitUntil, type ManagedProcess } from '../../dev/processes';

/**
 * A component spawned with `nice` runs, every thread of it, at that priority, and so does the
 * scheduling group of its session (Linux's autogroups weigh a thread's nice only within its session,
 * and every component leads a session of its own). Real processes, read back from /proc.
 */

jest.setTimeout(60_000);

/** A thread's nice: field 19 of its stat line, counted after the command name (which may hold spaces). */
function niceOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const threadNices = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => niceOf(`/proc/${pid}/task/${tid}/stat`));

/** The session group's nice, or undefined on a kernel without autogroups. */
function sessionNice(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/autogroup`)) return undefined;
  const m = / nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

const started: ManagedProcess[] = [];

/** A Node process that starts its worker threads (V8's, libuv's pool) and then idles. */
function startIdle(name: string, nice?: number): ManagedProcess {
  const p = spawnManaged({ name, command: process.execPath, args: ['-e', "require('node:crypto').randomFill(Buffer.alloc(8), () => console.log('ready')); setInterval(() => undefined, 1000)"], nice });
  started.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop(1_000)));
});

const linuxOnly = process.platform === 'linux' ? test : test.skip;

linuxOnly('a process spawned at nice 7 runs every thread at 7 and its session group at 7; one spawned without it at 0', async () => {
  const lowered = startIdle('lowered', 7);
  const plain = startIdle('plain');
  for (const p of [lowered, plain]) await waitUntil(() => p.tail(5).includes('ready'), { timeoutMs: 20_000, intervalMs: 100, what: `${p.name} to start`, process: p });

  const pid = lowered.child.pid!;
  // The program itself, not `nice` in front of it: `nice` replaces itself with the program.
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
  const threads = threadNices(pid);
  expect(threads.length).toBeGreaterThan(1);
  expect(new Set(threads)).toEqual(new Set([7]));
  expect(new Set(threadNices(plain.child.pid!))).toEqual(new Set([0]));
  if (sessionNice(pid) !== undefined) {
    expect(sessionNice(pid)).toBe(7);
    expect(sessionNice(plain.child.pid!)).toBe(0);
  }
});
