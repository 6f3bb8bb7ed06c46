/**
 * `npm start`: the whole stack on one machine, supervised. Starts the Temporal dev server and
 * FerretDB (unless TEMPORAL_ADDRESS / MONGODB_URI point elsewhere), the local carrier, the
 * worker and the API; waits until the API reports healthy; prints where everything is. If any
 * component dies, everything stops with exit code 1; Ctrl-C stops everything cleanly. If the
 * supervisor itself dies, even by SIGKILL, its watchdog (dev/watchdog.ts) stops the components.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startTemporalCluster, type TemporalCluster } from './cluster/cluster';
import { clusterToolPaths, missingClusterTools } from './cluster/tools';
import { startTemporalUi } from './cluster/ui';
import { searchAttributeDefinitions } from '../workflows/search-attributes';
import { DEV_API_KEY, devEnvironment } from './dev-env';
import { metricsRows } from './metrics-urls';
import { readStackSettings, StackSettingsError, type StackSettings } from './ports';
import { assertPortFree, canConnect } from './free-port';
import { describeExit, httpOk, startNodeProcess, waitUntil, type ManagedProcess } from './processes';
import { startFerretDb, startTemporalDevServer } from './servers';
import { withWorkerHeapLimit } from './worker-heap';
import { startWatchdog, type Watchdog } from './watchdog';

const repoRoot = path.resolve(__dirname, '..');
const say = (line: string) => process.stdout.write(`[start] ${line}\n`);
const complain = (line: string) => process.stderr.write(`[start] ${line}\n`);

const API_READY_TIMEOUT_MS = 180_000;

/** `npm start -- --cluster` (or OPTINFLOW_TEMPORAL_PROFILE=cluster): the real Temporal server on PostgreSQL instead of the dev server. */
const onCluster = process.argv.includes('--cluster') || process.env.OPTINFLOW_TEMPORAL_PROFILE === 'cluster';

/** Builds the cluster profile's tools on first use, so `npm start -- --cluster` works on a fresh clone. */
function ensureClusterTools(): void {
  const tools = clusterToolPaths(repoRoot);
  const required = missingClusterTools(tools);
  if (required.length === 0 && existsSync(tools.uiServerBin)) return;
  say(`the cluster profile needs ${[...required, ...(existsSync(tools.uiServerBin) ? [] : [`the Temporal UI server at ${tools.uiServerBin}`])].join('; ')}: running npm run tools -- --cluster…`);
  const r = spawnSync('bash', [path.join(repoRoot, 'dev', 'tools.sh'), '--cluster'], { stdio: 'inherit' });
  // The UI is a convenience: a failed build of it alone leaves a working profile without it.
  if (r.status !== 0 && missingClusterTools(tools).length > 0) throw new StackSettingsError('npm run tools -- --cluster failed (see above)');
}

async function startCluster(settings: StackSettings): Promise<{ cluster: TemporalCluster; uiUrl: string | undefined }> {
  ensureClusterTools();
  const tools = clusterToolPaths(repoRoot);
  const cluster = await startTemporalCluster({
    tools,
    dataDir: path.join(settings.dataDir, 'cluster'),
    logDir: path.join(settings.dataDir, 'logs'),
    host: settings.host,
    frontendPort: settings.temporalPort,
    namespaces: [],
    searchAttributes: searchAttributeDefinitions,
    onSpawn: (p) => stack.watch(p),
  });
  // The shards settle a few seconds after the ring forms.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const [host, shards] of cluster.shardOwners()) say(`  ${host}: history shards ${shards.join(', ') || '(none yet)'}`);
  if (!existsSync(tools.uiServerBin)) {
    complain(`WARNING: no Temporal UI server at ${tools.uiServerBin} (npm run tools -- --cluster builds it): running without the UI`);
    return { cluster, uiUrl: undefined };
  }
  const ui = await startTemporalUi({
    bin: tools.uiServerBin,
    frontendAddress: cluster.address,
    host: settings.host,
    port: settings.temporalUiPort,
    configDir: path.join(settings.dataDir, 'cluster', 'config', 'ui'),
    logFile: logFile(settings, 'temporal-ui'),
    onSpawn: (p) => stack.watch(p),
  });
  return { cluster, uiUrl: ui.url };
}
/** As long as a component gets to stop after Ctrl-C. */
const WATCHDOG_GRACE_MS = 5_000;

class Stack {
  private readonly running: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly watchdog: Watchdog) {
    void watchdog.exited.then(() => {
      if (this.stopping) return;
      complain('the watchdog exited: a kill -9 of this supervisor would leave the stack running — stopping the stack.');
      void this.shutdown(1);
    });
  }

  /** Registers a component so a crash anywhere, at any time, brings the stack down, and so does a SIGKILL of the supervisor. */
  watch(component: ManagedProcess): ManagedProcess {
    this.running.push(component);
    this.watchdog.watch(component.child.pid);
    if (this.stopping) void component.stop();
    void component.exited.then((exit) => {
      if (component.stopping || this.stopping) return;
      complain(`${component.name} ${describeExit(exit)} — stopping the stack.`);
      this.showTail(component);
      void this.shutdown(1);
    });
    return component;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  showTail(component: ManagedProcess): void {
    const tail = component.tail(20);
    if (tail.length === 0) return;
    complain(`last ${tail.length} lines of ${component.name}${component.logFile ? ` (${displayPath(component.logFile)})` : ''}:`);
    for (const line of tail) process.stderr.write(`    ${line}\n`);
  }

  /** Stops components in reverse start order (API first, Temporal last), then exits. */
  shutdown(exitCode: number): Promise<void> {
    this.stopping ??= (async () => {
      for (const component of [...this.running].reverse()) {
        await component.stop().catch((err: Error) => complain(`stopping ${component.name}: ${err.message}`));
        this.watchdog.forget(component.child.pid);
      }
      this.watchdog.release();
      process.exit(exitCode);
    })();
    return this.stopping;
  }
}

/** Paths inside the repository are shown relative to it, others in full. */
function displayPath(file: string): string {
  const relative = path.relative(repoRoot, file);
  return relative.startsWith('..') ? file : relative;
}

function logFile(settings: StackSettings, name: string): string {
  return path.join(settings.dataDir, 'logs', `${name}.log`);
}

function entryFile(relative: string): string | undefined {
  const file = path.join(repoRoot, relative);
  return existsSync(file) ? file : undefined;
}

function requireExecutable(file: string, what: string, pathVar: string, addressVar: string): void {
  if (existsSync(file)) return;
  if (process.env[pathVar]) throw new StackSettingsError(`${pathVar}=${file} does not exist: fix it, or unset it to use the one 'npm run tools' installs`);
  throw new StackSettingsError(`${what} not found at ${file}: run 'npm run tools', or set ${pathVar} or ${addressVar}`);
}

async function checkPorts(settings: StackSettings): Promise<void> {
  const checks: Array<[number, string, string]> = [
    [settings.carrierPort, 'carrier HTTP', 'CARRIER_PORT'],
    [settings.carrierSmtpPort, 'carrier SMTP', 'CARRIER_SMTP_PORT'],
    [settings.apiPort, 'API', 'API_PORT'],
  ];
  if (!settings.externalTemporalAddress) {
    checks.push([settings.temporalPort, 'Temporal', 'TEMPORAL_PORT'], [settings.temporalUiPort, 'Temporal UI', 'TEMPORAL_UI_PORT']);
  }
  if (!settings.externalMongoUri) checks.push([settings.ferretDbPort, 'FerretDB', 'FERRETDB_PORT']);
  for (const [port, name, envVar] of checks) await assertPortFree(port, name, envVar, settings.host);
}

// Started before any component, so none can outlive a supervisor killed at any moment.
const stack = new Stack(startWatchdog(WATCHDOG_GRACE_MS));

async function main(): Promise<void> {
  const settings = readStackSettings(process.env, repoRoot);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A terminal's Ctrl-C reaches us twice: directly and relayed by the tsx CLI.
      if (stack.isStopping) return;
      say(`${signal} received: stopping the stack…`);
      void stack.shutdown(0);
    });
  }

  if (!settings.externalTemporalAddress && !onCluster) requireExecutable(settings.temporalCliPath, 'Temporal CLI', 'TEMPORAL_CLI_PATH', 'TEMPORAL_ADDRESS');
  if (!settings.externalMongoUri) requireExecutable(settings.ferretDbPath, 'FerretDB', 'FERRETDB_PATH', 'MONGODB_URI');
  await checkPorts(settings);

  const temporal = settings.externalTemporalAddress
    ? undefined
    : onCluster
      ? startCluster(settings).then(({ cluster, uiUrl }) => ({ address: cluster.address, uiUrl }))
      : startTemporalDevServer({
        bin: settings.temporalCliPath,
        host: settings.host,
        port: settings.temporalPort,
        uiPort: settings.temporalUiPort,
        dbFile: path.join(settings.dataDir, 'temporal.db'),
        searchAttributes: searchAttributeDefinitions,
        logFile: logFile(settings, 'temporal'),
        onSpawn: (server) => stack.watch(server),
      });
  const ferret = settings.externalMongoUri
    ? undefined
    : startFerretDb({
        bin: settings.ferretDbPath,
        host: settings.host,
        port: settings.ferretDbPort,
        dataDir: path.join(settings.dataDir, 'ferretdb'),
        logFile: logFile(settings, 'ferretdb'),
        onSpawn: (server) => stack.watch(server),
      });
  say(
    `starting ${[temporal && `Temporal${onCluster ? ' cluster on PostgreSQL' : ''} (:${settings.temporalPort})`, ferret && `FerretDB (:${settings.ferretDbPort})`].filter(Boolean).join(' and ') || 'against external Temporal and MongoDB'}…`,
  );
  const [temporalServer, ferretServer] = await Promise.all([temporal, ferret]);

  const temporalAddress = temporalServer?.address ?? settings.externalTemporalAddress!;
  const mongoUri = ferretServer ? `${ferretServer.uri}optinflow` : settings.externalMongoUri!;
  const carrierUrl = `http://${settings.host}:${settings.carrierPort}`;
  const { env: stackEnv, devCredentials } = devEnvironment(process.env, {
    temporalAddress,
    mongoUri,
    carrierUrl,
    carrierSmtpUrl: `smtp://${settings.host}:${settings.carrierSmtpPort}`,
    apiHost: settings.host,
    apiPort: settings.apiPort,
  });
  const apiUrl = `http://${settings.host}:${settings.apiPort}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...stackEnv,
    CARRIER_HOST: settings.host,
    CARRIER_PORT: String(settings.carrierPort),
    CARRIER_SMTP_PORT: String(settings.carrierSmtpPort),
    // The carrier's own default assumes API_PORT 3000.
    CARRIER_INBOUND_URL: process.env.CARRIER_INBOUND_URL || `${apiUrl}/webhooks/twilio/messaging`,
    CARRIER_META_WEBHOOK_URL: process.env.CARRIER_META_WEBHOOK_URL || `${apiUrl}/webhooks/meta`,
  };
  if (devCredentials.length > 0) {
    complain(`WARNING: dev credentials in use for ${devCredentials.join(', ')} (public values from dev/dev-env.ts: local use only)`);
  }

  const started: string[] = [];
  const carrierEntry = entryFile('dev/carrier/main.ts');
  if (carrierEntry) {
    say('starting the carrier…');
    const carrier = stack.watch(startNodeProcess({ name: 'carrier', entry: carrierEntry, env: childEnv, cwd: repoRoot, logFile: logFile(settings, 'carrier') }));
    await waitUntil(async () => (await canConnect(settings.carrierPort, settings.host)) && (await canConnect(settings.carrierSmtpPort, settings.host)), {
      timeoutMs: 60_000,
      what: `the carrier to listen on ${settings.carrierPort} and ${settings.carrierSmtpPort}`,
      process: carrier,
    });
    started.push('carrier');
  } else {
    complain('WARNING: dev/carrier/main.ts not found: running without the carrier');
  }

  const workerEntry = entryFile('workers/main.ts');
  if (workerEntry) {
    say('starting the worker…');
    stack.watch(startNodeProcess({ name: 'worker', entry: workerEntry, env: withWorkerHeapLimit(childEnv), cwd: repoRoot, logFile: logFile(settings, 'worker') }));
    started.push('worker');
  } else {
    complain('WARNING: workers/main.ts not found: running without the worker');
  }

  const apiEntry = entryFile('api/server.ts');
  if (apiEntry) {
    say('starting the API and waiting for /healthz…');
    const api = stack.watch(startNodeProcess({ name: 'api', entry: apiEntry, env: childEnv, cwd: repoRoot, logFile: logFile(settings, 'api') }));
    await waitUntil(() => httpOk(`${apiUrl}/healthz`), { timeoutMs: API_READY_TIMEOUT_MS, intervalMs: 500, what: `${apiUrl}/healthz to answer 200`, process: api });
    started.push('api');
  } else {
    complain('WARNING: api/server.ts not found: running without the API');
  }

  const rows: Array<[string, string]> = [
    ['API', started.includes('api') ? apiUrl : '(not running)'],
    ['API health', started.includes('api') ? `${apiUrl}/healthz` : '(not running)'],
    ...metricsRows(childEnv, apiUrl, started),
    ['Carrier page', started.includes('carrier') ? `${carrierUrl}/` : '(not running)'],
    ['Temporal UI', temporalServer?.uiUrl ?? (onCluster ? '(not built: npm run tools -- --cluster; docs/cluster.md)' : '(external server: see its own UI)')],
    ['Temporal gRPC', temporalAddress],
    ['MongoDB URI', mongoUri],
    ['Dev API key', stackEnv.API_KEYS === DEV_API_KEY ? DEV_API_KEY : '(from API_KEYS)'],
    ['Logs', displayPath(path.join(settings.dataDir, 'logs'))],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const table = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
  process.stdout.write(`\nOptinflow is running:\n${table}\n\nPress Ctrl-C to stop.\n`);
}

main().catch((err: unknown) => {
  // A component that died while awaited has already been reported by Stack.watch.
  if (!stack.isStopping) {
    complain(err instanceof Error ? err.message : String(err));
  }
  void stack.shutdown(1);
});
