import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startCarrier, type Carrier } from '../dev/carrier/carrier';
import { startTemporalCluster } from '../dev/cluster/cluster';
import { clusterToolPaths } from '../dev/cluster/tools';
import { carrierContentFor } from '../dev/content-templates';
import { DEV_META_ACCESS_TOKEN, DEV_META_APP_SECRET, DEV_META_VERIFY_TOKEN } from '../dev/dev-env';
import { findFreePort } from '../dev/free-port';
import { httpOk, startNodeProcess, waitUntil, type ManagedProcess } from '../dev/processes';
import { startFerretDb, startTemporalDevServer } from '../dev/servers';
import { withWorkerHeapLimit } from '../dev/worker-heap';
import { workerNice } from '../dev/cpu-priority';
import { loadBusinesses } from '../lib/businesses';
import { connectStore, type Store } from '../store/models';
import { searchAttributeDefinitions } from '../workflows/search-attributes';
import { temporalClientInterceptors } from '../lib/temporal-interceptors';

/**
 * The whole product for a benchmark: Temporal dev server (the cluster profile with
 * OPTINFLOW_TEMPORAL_PROFILE=cluster) and FerretDB (unless TEMPORAL_ADDRESS / MONGODB_URI name running ones), the carrier in this process, and the worker and the API as child
 * processes so each one's memory can be read on its own.
 */

const repoRoot = path.resolve(__dirname, '..');
const ACCOUNT_SID = 'AC' + 'be'.repeat(16);
const AUTH_TOKEN = 'bench-auth-token-0123456789';
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

export interface BenchStack {
  apiUrl: string;
  apiKey: string;
  carrier: Carrier;
  store: Store;
  /** A client of the stack's Temporal, for benchmarks that drive workflows directly and read histories. */
  client: Client;
  /** Where that Temporal listens, for a worker a benchmark runs in its own process. */
  temporalAddress: string;
  /** The product worker's task queue. */
  taskQueue: string;
  pids: { worker: number; api: number; temporal?: number };
  /** The stack's server processes by name, for ./cpu-times.ts: worker, api, temporal (all five of the cluster), ferretdb when started here. */
  processGroups(): Record<string, number[]>;
  /** The embedded FerretDB's metrics (./store-commands.ts); absent with MONGODB_URI. */
  storeMetricsUrl?: string;
  /** Starts another Node process with the worker's environment plus `env`, stopped with the stack. */
  startProcess(name: string, entry: string, env: Record<string, string>): ManagedProcess;
  request(method: string, p: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any; retryAfterSeconds?: number }>;
  peakRssMiB(): { worker: number; api: number; temporal?: number; bench: number };
  stop(): Promise<void>;
}

/** Peak resident memory of a process, from the kernel's high-water mark. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

export async function startBenchStack(opts: { businessesFile?: string; workerEnv?: Record<string, string> } = {}): Promise<BenchStack> {
  // Read first: a bad value fails before any server starts.
  const nice = workerNice(process.env);
  const work = mkdtempSync(path.join(os.tmpdir(), 'optinflow-bench-'));
  const stops: Array<() => Promise<void>> = [];
  const businessesFile = opts.businessesFile ?? path.join(repoRoot, 'config', 'businesses.demo.json');
  try {
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalPid: number | undefined;
    // The cluster profile's five server processes, whose peak RSS is summed as "temporal".
    let clusterPids: number[] = [];
    if (!temporalAddress && process.env.OPTINFLOW_TEMPORAL_PROFILE === 'cluster') {
      chmodSync(work, 0o755);
      const cluster = await startTemporalCluster({
        tools: clusterToolPaths(repoRoot),
        dataDir: path.join(work, 'cluster'),
        logDir: path.join(work, 'logs'),
        namespaces: [],
        searchAttributes: searchAttributeDefinitions,
      });
      stops.push(() => cluster.stop());
      temporalAddress = cluster.address;
      clusterPids = [...cluster.processes.values()].map((p) => p.child.pid!);
      temporalPid = clusterPids[0];
    } else if (!temporalAddress) {
      const temporal = await startTemporalDevServer({
        bin: process.env.TEMPORAL_CLI_PATH || path.join(repoRoot, '.tools', 'bin', 'temporal'),
        port: await findFreePort(),
        uiPort: 'headless',
        searchAttributes: searchAttributeDefinitions,
        logFile: path.join(work, 'temporal.log'),
      });
      stops.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalPid = temporal.child.pid;
    }
    let mongoBase = process.env.MONGODB_URI?.replace(/\/[^/]*$/, '/');
    let storeMetricsUrl: string | undefined;
    let ferretPid: number | undefined;
    if (!mongoBase) {
      const ferret = await startFerretDb({ bin: process.env.FERRETDB_PATH || path.join(repoRoot, '.tools', 'bin', 'ferretdb'), port: await findFreePort(), dataDir: path.join(work, 'ferretdb'), logFile: path.join(work, 'ferretdb.log'), debugPort: await findFreePort() });
      stops.push(() => ferret.stop());
      mongoBase = ferret.uri;
      storeMetricsUrl = ferret.metricsUrl;
      ferretPid = ferret.child.pid;
    }
    const mongoUri = `${mongoBase}bench_${Date.now().toString(36)}`;
    const store = await connectStore(mongoUri);
    stops.push(() => store.connection.close());
    const connection = await Connection.connect({ address: temporalAddress, interceptors: temporalClientInterceptors() });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });

    const apiPort = await findFreePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const businesses = loadBusinesses(businessesFile);
    const carrier = await startCarrier({
      httpPort: 0,
      smtpPort: 0,
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      inboundMessageUrl: `${apiUrl}/webhooks/twilio/messaging`,
      statusCallbackDelayMs: 20,
      ...carrierContentFor(businesses.all()),
    });
    stops.push(() => carrier.close());

    const taskQueue = `bench-${Date.now().toString(36)}`;
    const env = {
      ...process.env,
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: mongoUri,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE_URL: carrier.httpUrl,
      SMTP_URL: `smtp://127.0.0.1:${carrier.smtpPort}`,
      PUBLIC_BASE_URL: apiUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_KEYS: BENCH_API_KEY,
      PAGE_TOKEN_SECRET: 'bench-page-token-secret-0123456789abcdef',
      META_ACCESS_TOKEN: DEV_META_ACCESS_TOKEN,
      META_APP_SECRET: DEV_META_APP_SECRET,
      META_VERIFY_TOKEN: DEV_META_VERIFY_TOKEN,
      META_GRAPH_BASE_URL: carrier.httpUrl,
      BUSINESSES_FILE: businessesFile,
      // Ports of their own, so a bench can run beside a dev stack or another bench.
      WORKER_METRICS_PORT: String(await findFreePort()),
      WORKER_SDK_METRICS_PORT: String(await findFreePort()),
      ...opts.workerEnv,
    };
    const worker: ManagedProcess = startNodeProcess({ name: 'worker', entry: path.join(repoRoot, 'workers', 'main.ts'), env: withWorkerHeapLimit(env), cwd: repoRoot, logFile: path.join(work, 'worker.log'), nice });
    stops.push(() => worker.stop());
    const api: ManagedProcess = startNodeProcess({ name: 'api', entry: path.join(repoRoot, 'api', 'server.ts'), env, cwd: repoRoot, logFile: path.join(work, 'api.log') });
    stops.push(() => api.stop());
    await waitUntil(() => httpOk(`${apiUrl}/healthz`).catch(() => false), { timeoutMs: 120_000, intervalMs: 500, what: 'the API and the worker to be healthy', process: worker });

    console.log(`the worker runs at nice ${nice} (WORKER_NICE; 0 gives it the same CPU priority as the API and the servers)`);
    const pids = { worker: worker.child.pid!, api: api.child.pid!, temporal: temporalPid };
    // Ctrl-C on a long benchmark must not leave its servers running.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`${signal}: stopping the benchmark's servers`);
        void (async () => {
          for (const s of [...stops].reverse()) await s().catch(() => undefined);
          process.exit(130);
        })();
      });
    }
    return {
      apiUrl,
      apiKey: BENCH_API_KEY,
      carrier,
      store,
      client,
      temporalAddress,
      taskQueue,
      pids,
      processGroups: () => ({
        worker: [pids.worker],
        api: [pids.api],
        ...(clusterPids.length > 0 ? { temporal: clusterPids } : pids.temporal ? { temporal: [pids.temporal] } : {}),
        ...(ferretPid ? { ferretdb: [ferretPid] } : {}),
      }),
      storeMetricsUrl,
      startProcess(name, entry, extraEnv) {
        const child = startNodeProcess({ name, entry, env: { ...env, ...extraEnv }, cwd: repoRoot, logFile: path.join(work, `${name}.log`) });
        stops.push(() => child.stop());
        return child;
      },
      async request(method, p, body, contentType = 'application/json') {
        const res = await fetch(`${apiUrl}${p}`, {
          method,
          headers: { authorization: `Bearer ${BENCH_API_KEY}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
        const text = await res.text();
        const retryAfter = res.headers.get('retry-after');
        const retryAfterSeconds = retryAfter === null ? undefined : Number(retryAfter);
        try {
          return { status: res.status, body: JSON.parse(text), retryAfterSeconds };
        } catch {
          return { status: res.status, body: text, retryAfterSeconds };
        }
      },
      peakRssMiB: () => ({
        worker: peakRssMiB(pids.worker),
        api: peakRssMiB(pids.api),
        temporal: clusterPids.length > 0 ? clusterPids.reduce((sum, pid) => sum + peakRssMiB(pid), 0) : pids.temporal ? peakRssMiB(pids.temporal) : undefined,
        bench: Math.round(process.resourceUsage().maxRSS / 1024),
      }),
      async stop() {
        for (const s of stops.reverse()) await s().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw err;
  }
}
