import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import { canConnect } from './free-port';
import { goServerEnv } from './go-env';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes';

/** The embedded stack's two servers, Temporal's dev server and FerretDB, started and checked the same way by `npm start`, the tests and the benches. */

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
  // The matcher that dispatches a task queue's backlog by priority (TASK_PRIORITIES in services/workflow-starts.ts); the server's default one ignores priorities.
  args.push('--dynamic-config-value', 'matching.useNewMatcher=true');
  if (options.uiPort === 'headless') args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const attribute of searchAttributes) args.push('--search-attribute', `${attribute.name}=${attribute.type}`);

  const server = spawnManaged({ name: 'Temporal', command: options.bin, args, logFile: options.logFile, env: goServerEnv(options.env ?? process.env) });
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
  const server = spawnManaged({ name: 'FerretDB', command: options.bin, args, logFile: options.logFile, env: goServerEnv(options.env ?? process.env) });
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
