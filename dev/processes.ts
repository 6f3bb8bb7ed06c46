import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { nicedCommand, setSessionNice } from './cpu-priority';

/**
 * Starting, watching and stopping the processes of the local stack. Shared by the `npm start`
 * supervisor and the integration-test harness so both run the servers the same way.
 *
 * Every child is spawned detached, as the leader of its own process group, and stopped by
 * signalling the whole group: a component that forks (tsx, the Temporal UI server) leaves no
 * orphans behind.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string | undefined;
  /** Resolves when the process has exited, whether it was stopped or died. */
  readonly exited: Promise<ExitInfo>;
  /** True once stop() was called, so a watcher can tell a crash from a shutdown. */
  readonly stopping: boolean;
  /** The last lines the process wrote to stdout and stderr. */
  tail(lines?: number): string[];
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves when the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout and stderr go; omitted, only the in-memory tail is kept. */
  logFile?: string;
  /** How many output lines tail() can return. */
  keepLines?: number;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** A lower CPU priority, 1 to 19 (dev/cpu-priority.ts); 0 or unset: the launcher's own. */
  nice?: number;
}

const DEFAULT_GRACE_MS = 5_000;
const DEFAULT_KEEP_LINES = 200;

export function spawnManaged(options: SpawnOptions): ManagedProcess {
  const keep = options.keepLines ?? DEFAULT_KEEP_LINES;
  const lines: string[] = [];
  let partial = '';
  let log: WriteStream | undefined;
  if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    log = createWriteStream(options.logFile, { flags: 'w' });
  }

  const nice = options.nice ?? 0;
  const { command, args } = nicedCommand(options.command, options.args, nice);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });

  // The child leads a session of its own (detached), so its session's scheduling group needs the nice too.
  if (nice > 0 && child.pid !== undefined) setSessionNice(child.pid, nice);
  const record = (chunk: Buffer) => {
    log?.write(chunk);
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > keep) lines.shift();
    }
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);

  let stopping = false;
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err) => {
      record(Buffer.from(`failed to start ${options.command}: ${err.message}\n`));
      if (!done) {
        done = true;
        log?.end();
        resolve({ code: null, signal: null });
      }
    });
    child.once('exit', (code, signal) => {
      const finish = () => {
        if (done) return;
        done = true;
        if (partial) lines.push(partial);
        partial = '';
        log?.end();
        resolve({ code, signal });
      };
      // Output may still sit in the pipes after 'exit' and 'close' says they are drained, but a
      // surviving grandchild holding the pipes must not hide the exit for long.
      child.once('close', finish);
      setTimeout(finish, 500).unref();
    });
  });

  const pgid = child.pid;
  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    if (pgid === undefined) return false;
    try {
      process.kill(-pgid, signal);
      return true;
    } catch {
      return false;
    }
  };
  const groupAlive = () => signalGroup(0);

  return {
    name: options.name,
    child,
    logFile: options.logFile,
    exited,
    get stopping() {
      return stopping;
    },
    tail(n = 20) {
      const all = partial ? [...lines, partial] : lines;
      return all.slice(-n);
    },
    async stop(graceMs = DEFAULT_GRACE_MS) {
      stopping = true;
      if (!done) signalGroup('SIGTERM');
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((resolve) => {
        graceTimer = setTimeout(() => resolve(false), graceMs);
      });
      const leaderGone = await Promise.race([exited.then(() => true as const), graceOver]);
      clearTimeout(graceTimer);
      if (!leaderGone) signalGroup('SIGKILL');
      await exited;
      // The leader can exit before the rest of its group; anything left is killed outright.
      if (groupAlive()) {
        await waitUntil(async () => !groupAlive(), { timeoutMs: graceMs, intervalMs: 50, what: `${options.name} process group to exit` }).catch(() => {
          signalGroup('SIGKILL');
        });
      }
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Says what is awaited, for the timeout message: "Temporal to accept connections". */
  what: string;
  /** Give up at once when this process exits while we wait. */
  process?: ManagedProcess;
}

/** Polls check() until it returns true; throws on timeout or when the watched process dies. */
export async function waitUntil(check: () => Promise<boolean> | boolean, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  let exitInfo: ExitInfo | undefined;
  void options.process?.exited.then((info) => {
    exitInfo = info;
  });
  let lastError: unknown;
  for (;;) {
    if (exitInfo && options.process) throw new ComponentExitedError(options.process, exitInfo);
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${why}`);
    }
    await delay(interval);
  }
}

export function describeExit(info: ExitInfo): string {
  if (info.signal) return `killed by ${info.signal}`;
  if (info.code === null) return 'could not be started';
  return `exited with code ${info.code}`;
}

export class ComponentExitedError extends Error {
  constructor(
    readonly component: ManagedProcess,
    readonly exit: ExitInfo,
  ) {
    const tail = component.tail(20);
    const where = component.logFile ? ` (log: ${component.logFile})` : '';
    super(`${component.name} ${describeExit(exit)} before it was ready${where}${tail.length ? `; last lines:\n${tail.join('\n')}` : ''}`);
  }
}

export interface NodeProcessOptions {
  name: string;
  /** A TypeScript or JavaScript entry file, run through tsx. */
  entry: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile?: string;
  nice?: number;
}

/**
 * Runs a TypeScript entry in one node process with tsx as a loader (rather than the tsx CLI,
 * which would put a second process between us and the program).
 */
export function startNodeProcess(options: NodeProcessOptions): ManagedProcess {
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const env = options.env ?? process.env;
  return spawnManaged({
    name: options.name,
    command: process.execPath,
    args: ['--import', loader, options.entry, ...(options.args ?? [])],
    // glibc gives each thread that allocates its own heap arena (the worker's Rust core runs many):
    // two arenas keep the worker's resident memory lower at no measurable cost (docs/performance.md).
    env: { ...env, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2' },
    cwd: options.cwd,
    logFile: options.logFile,
    nice: options.nice,
  });
}

/** Resolves when an HTTP GET of url answers 2xx; used for health endpoints. */
export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.ok;
}
