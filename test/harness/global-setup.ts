import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { sandboxPreloads } from '../../workers/bundle-options';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { findFreePort } from '../../dev/free-port';
import type { ManagedProcess } from '../../dev/processes';
import { startWatchdog, type Watchdog } from '../../dev/watchdog';
import { startFerretDb, startTemporalDevServer, type FerretDbServer, type TemporalDevServer } from '../../dev/servers';
import { searchAttributeDefinitions } from '../../workflows/search-attributes';
import { startTestCluster } from './cluster';
import { withDatabase } from './servers';

/**
 * Starts the real servers the integration tests run against, once per jest run: a headless,
 * in-memory Temporal dev server and FerretDB in a temporary directory, both on free ports. When
 * TEMPORAL_ADDRESS or MONGODB_URI is set, that server is used instead. Test files find them
 * through the OPTINFLOW_TEST_* variables (jest workers inherit this process's environment).
 */

export interface HarnessState {
  workDir: string;
  /** The dev server, or the cluster profile's processes (`pids`: every server process, for RSS figures). */
  temporal: { address: string; namespace: string; pids: number[]; stop(): Promise<void> } | undefined;
  ferret: FerretDbServer | undefined;
  /** Stops the servers should Jest die without its teardown (killed, or its terminal closed): they run detached. */
  watchdog: Watchdog;
  /** The process groups it watches. */
  watched: number[];
}

declare global {
  var __optinflowHarness: HarnessState | undefined;
}

const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * Workflow ids are business keys (a journey's id derives from business + phone), so two test files
 * using the same number would meet in one namespace. Each file claims a namespace of its own and
 * keeps it for the run, so the pool must outnumber the files that start a stack (68 of them now).
 */
const TEST_NAMESPACES = Array.from({ length: 96 }, (_, i) => `optinflow-test-${String(i + 1).padStart(2, '0')}`);

/** The cluster profile runs a subset of the files, and each namespace made on it costs start time. */
const CLUSTER_NAMESPACES = TEST_NAMESPACES.slice(0, 24);
const onCluster = process.env.OPTINFLOW_TEST_TEMPORAL === 'cluster';

function tool(envVar: string, name: string): string {
  const bin = process.env[envVar] || path.join(repoRoot, '.tools', 'bin', name);
  if (!existsSync(bin)) throw new Error(`${bin} not found: run 'npm run tools' first, or set ${envVar}`);
  return bin;
}

export default async function globalSetup(): Promise<void> {
  const state = await startHarness();
  if (existsSync(path.join(repoRoot, 'workflows', 'index.ts'))) {
    try {
      const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), preloadModules: sandboxPreloads(false), logger: new DefaultLogger('WARN') });
      const bundlePath = path.join(state.workDir, 'workflow-bundle.js');
      writeFileSync(bundlePath, bundle.code);
      process.env.OPTINFLOW_TEST_WORKFLOW_BUNDLE = bundlePath;
    } catch (err) {
      await stopHarness(state);
      throw err;
    }
  }
}

/** The servers, watched, in a new temporary directory; their addresses in the OPTINFLOW_TEST_* variables. */
export async function startHarness(): Promise<HarnessState> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-test-'));
  const state: HarnessState = { workDir, temporal: undefined, ferret: undefined, watchdog: startWatchdog(5_000), watched: [] };
  globalThis.__optinflowHarness = state;
  const watch = (p: ManagedProcess) => {
    if (p.child.pid === undefined) return;
    state.watchdog.watch(p.child.pid);
    state.watched.push(p.child.pid);
  };

  const namespaces = onCluster ? CLUSTER_NAMESPACES : TEST_NAMESPACES;
  const temporalStart = process.env.TEMPORAL_ADDRESS
    ? undefined
    : onCluster
      ? startTestCluster(workDir, repoRoot, namespaces, watch).then((c) => ({ address: c.address, namespace: c.namespace, pids: [...c.processes.values()].map((p) => p.child.pid!), stop: c.stop }))
      : findFreePort().then((port) =>
        startTemporalDevServer({
          bin: tool('TEMPORAL_CLI_PATH', 'temporal'),
          port,
          uiPort: 'headless',
          extraNamespaces: TEST_NAMESPACES,
          searchAttributes: searchAttributeDefinitions,
          logFile: path.join(workDir, 'temporal.log'),
          onSpawn: watch,
        }).then((server: TemporalDevServer) => ({ address: server.address, namespace: server.namespace, pids: [server.child.pid!], stop: server.stop })),
      );
  const ferretStart = process.env.MONGODB_URI
    ? undefined
    : findFreePort().then((port) =>
        startFerretDb({ bin: tool('FERRETDB_PATH', 'ferretdb'), port, dataDir: path.join(workDir, 'ferretdb'), logFile: path.join(workDir, 'ferretdb.log'), onSpawn: watch }),
      );
  const [temporal, ferret] = await Promise.allSettled([temporalStart, ferretStart]);
  if (temporal.status === 'fulfilled') state.temporal = temporal.value;
  if (ferret.status === 'fulfilled') state.ferret = ferret.value;
  for (const outcome of [temporal, ferret]) {
    if (outcome.status === 'rejected') {
      await stopHarness(state);
      throw outcome.reason;
    }
  }

  process.env.OPTINFLOW_TEST_TEMPORAL_ADDRESS = state.temporal?.address ?? process.env.TEMPORAL_ADDRESS;
  process.env.OPTINFLOW_TEST_TEMPORAL_NAMESPACE = state.temporal?.namespace ?? (process.env.TEMPORAL_NAMESPACE || 'default');
  if (state.temporal) {
    process.env.OPTINFLOW_TEST_TEMPORAL_NAMESPACES = namespaces.join(',');
    process.env.OPTINFLOW_TEST_LOCK_DIR = workDir;
  }
  process.env.OPTINFLOW_TEST_MONGODB_URI = state.ferret?.uri ?? withDatabase(process.env.MONGODB_URI!, '');
  return state;
}

/** Stops the servers, then the watchdog, which would otherwise stop them itself once released. */
export async function stopHarness(state: HarnessState): Promise<void> {
  await Promise.all([state.temporal?.stop(), state.ferret?.stop()]);
  state.temporal = undefined;
  state.ferret = undefined;
  for (const pgid of state.watched.splice(0)) state.watchdog.forget(pgid);
  state.watchdog.release();
}
