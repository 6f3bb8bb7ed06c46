import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import mongoose from 'mongoose';

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

  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });

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

/** Whether host:port can be listened on right now. */
function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The lowest port the kernel hands to outgoing connections (Linux); undefined where it does not say. */
function ephemeralPortsFrom(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A port that was free a moment ago, the usual small race accepted for local tools and tests. It comes
 * from below the kernel's ephemeral range where there is room: a port the kernel picks (listen on 0)
 * lies inside that range, and any outgoing connection of a busy machine (a test suite's hundreds of
 * them) can take it before the server it was meant for binds it.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const ephemeralFrom = ephemeralPortsFrom();
  const lowest = 10_000;
  if (ephemeralFrom !== undefined && ephemeralFrom - lowest >= 1_000) {
    for (let i = 0; i < 50; i++) {
      const port = lowest + Math.floor(Math.random() * (ephemeralFrom - lowest));
      if (await canListen(port, host)) return port;
    }
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class PortInUseError extends Error {}

/**
 * Fails with a message that says how to get out of the conflict, rather than letting a child
 * crash later with an obscure bind error.
 */
export async function assertPortFree(port: number, name: string, envVar: string, host = '127.0.0.1'): Promise<void> {
  if (!(await canListen(port, host))) throw new PortInUseError(`port ${port} (${name}) is already in use: stop what uses it or set ${envVar}`);
}

export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface SearchAttributeDefinition {
  name: string;
  type: 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';
}

export interface TemporalDevServerOptions {
  bin: string;
  host?: string;
  port: number;
  /** A port for the Web UI, or 'headless' for none. */
  uiPort: number | 'headless';
  /** SQLite file that keeps workflows across restarts; omitted, the server keeps them in memory. */
  dbFile?: string;
  namespace?: string;
  /** More namespaces to create at start, each with the same search attributes (tests isolate files this way). */
  extraNamespaces?: readonly string[];
  searchAttributes?: readonly SearchAttributeDefinition[];
  logFile?: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called as soon as the process exists, before it is ready, so a supervisor can stop it on an early Ctrl-C. */
  onSpawn?: (process: ManagedProcess) => void;
}

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  process: ManagedProcess;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const host = options.host ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const searchAttributes = options.searchAttributes ?? [];
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--namespace', namespace, '--log-level', 'warn'];
  for (const extra of options.extraNamespaces ?? []) args.push('--namespace', extra);
  // The CLI would otherwise read TEMPORAL_* variables and ~/.config profiles meant for clients.
  args.push('--disable-config-env', '--disable-config-file');
  if (options.uiPort === 'headless') args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const attribute of searchAttributes) args.push('--search-attribute', `${attribute.name}=${attribute.type}`);

  const server = spawnManaged({ name: 'Temporal', command: options.bin, args, logFile: options.logFile, env: options.env });
  options.onSpawn?.(server);
  const address = `${host}:${options.port}`;
  try {
    await waitUntil(() => canConnect(options.port, host), { timeoutMs: options.readyTimeoutMs ?? 60_000, what: `Temporal to accept connections on ${address}`, process: server });
    await waitUntil(() => temporalNamespaceReady(address, namespace, searchAttributes), {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      intervalMs: 500,
      what: `Temporal namespace '${namespace}' and its search attributes`,
      process: server,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    address,
    namespace,
    uiUrl: options.uiPort === 'headless' ? undefined : `http://${host}:${options.uiPort}`,
    process: server,
    child: server.child,
    stop: () => server.stop(),
  };
}

async function temporalNamespaceReady(address: string, namespace: string, searchAttributes: readonly SearchAttributeDefinition[]): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    if (searchAttributes.length === 0) return true;
    const registered = await connection.operatorService.listSearchAttributes({ namespace });
    const custom = registered.customAttributes ?? {};
    return searchAttributes.every((attribute) => attribute.name in custom);
  } finally {
    await connection.close();
  }
}

export interface FerretDbOptions {
  bin: string;
  host?: string;
  port: number;
  dataDir: string;
  logFile?: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called as soon as the process exists, before it is ready, so a supervisor can stop it on an early Ctrl-C. */
  onSpawn?: (process: ManagedProcess) => void;
  /** SQLite's `synchronous` setting (default from FERRETDB_SYNCHRONOUS, else `normal`); see docs/stack.md. */
  synchronous?: 'normal' | 'full';
  /** A port for FerretDB's debug listener (its Prometheus metrics at /debug/metrics); none when absent. */
  debugPort?: number;
}

/**
 * In WAL mode `normal` syncs the log at checkpoints instead of at every commit: a commit survives
 * FerretDB or any process being killed, and only an OS crash or power loss can undo the last ones.
 * It doubles the embedded store's write rate on this disk; `full` restores a sync per commit.
 */
function sqliteSynchronous(options: FerretDbOptions): 'normal' | 'full' {
  const v = options.synchronous ?? (options.env ?? process.env).FERRETDB_SYNCHRONOUS ?? 'normal';
  if (v !== 'normal' && v !== 'full') throw new Error(`FERRETDB_SYNCHRONOUS must be normal or full (got "${v}")`);
  return v;
}

export interface FerretDbServer {
  /** mongodb://host:port/ with no database name. */
  uri: string;
  /** Its Prometheus metrics, when started with a debug port. */
  metricsUrl?: string;
  process: ManagedProcess;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startFerretDb(options: FerretDbOptions): Promise<FerretDbServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const args = [
    `--listen-addr=${host}:${options.port}`,
    '--handler=sqlite',
    // Write transactions take SQLite's lock when they begin, so concurrent writers wait (busy_timeout)
    // instead of failing at once with SQLITE_BUSY when a read transaction tries to upgrade.
    `--sqlite-url=file:${dataDir}/?_txlock=immediate&_pragma=busy_timeout(30000)&_pragma=synchronous(${sqliteSynchronous(options)})`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    // Its debug HTTP listener has a fixed default port, which two instances would fight over.
    options.debugPort ? `--debug-addr=${host}:${options.debugPort}` : '--debug-addr=-',
    '--log-level=warn',
  ];
  const server = spawnManaged({ name: 'FerretDB', command: options.bin, args, logFile: options.logFile, env: options.env });
  options.onSpawn?.(server);
  const uri = `mongodb://${host}:${options.port}/`;
  try {
    await waitUntil(() => canConnect(options.port, host), { timeoutMs: options.readyTimeoutMs ?? 30_000, what: `FerretDB to accept connections on ${host}:${options.port}`, process: server });
    await waitUntil(() => mongoPing(uri), { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 300, what: 'FerretDB to answer a ping', process: server });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const metricsUrl = options.debugPort ? `http://${host}:${options.debugPort}/debug/metrics` : undefined;
  return { uri, metricsUrl, process: server, child: server.child, stop: () => server.stop() };
}

export async function mongoPing(uri: string): Promise<boolean> {
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2_000 });
  try {
    await connection.asPromise();
    const answer = await connection.db!.admin().command({ ping: 1 });
    return answer.ok === 1;
  } finally {
    await connection.close(true);
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
  });
}

/** Resolves when an HTTP GET of url answers 2xx; used for health endpoints. */
export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.ok;
}
