/**
 * `npm start`: the whole stack on one machine, supervised. Starts the Temporal dev server and
 * FerretDB (unless TEMPORAL_ADDRESS / MONGODB_URI point elsewhere), the local carrier, the
 * worker and the API; waits until the API reports healthy; prints where everything is. If any
 * component dies, everything stops with exit code 1; Ctrl-C stops everything cleanly. If the
 * supervisor itself dies, even by SIGKILL, its watchdog (dev/watchdog.ts) stops the components.
 */
import path from 'node:path';
import { searchAttributeDefinitions } from '../workflows/search-attributes';
import { DEV_API_KEY, devEnvironment } from './dev-env';
import { metricsRows } from './metrics-urls';
import { readStackSettings } from './ports';
import { canConnect } from './free-port';
import { httpOk, startNodeProcess, waitUntil } from './processes';
import { startFerretDb, startTemporalDevServer } from './servers';
import { withWorkerHeapLimit } from './worker-heap';
import { workerNice } from './cpu-priority';
import { startWatchdog } from './watchdog';
import { startCluster } from './start-cluster';
import { checkPorts, entryFile, requireExecutable } from './start-checks';
import { complain, displayPath, logFile, repoRoot, say, Stack } from './supervisor';

const API_READY_TIMEOUT_MS = 180_000;

/** `npm start -- --cluster` (or OPTINFLOW_TEMPORAL_PROFILE=cluster): the real Temporal server on PostgreSQL instead of the dev server. */
const onCluster = process.argv.includes('--cluster') || process.env.OPTINFLOW_TEMPORAL_PROFILE === 'cluster';

/** As long as a component gets to stop after Ctrl-C. */
const WATCHDOG_GRACE_MS = 5_000;

// Started before any component, so none can outlive a supervisor killed at any moment.
const stack = new Stack(startWatchdog(WATCHDOG_GRACE_MS));

async function main(): Promise<void> {
  const settings = readStackSettings(process.env, repoRoot);
  const nice = workerNice(process.env);
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
      ? startCluster(settings, stack).then(({ cluster, uiUrl }) => ({ address: cluster.address, uiUrl }))
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
    stack.watch(startNodeProcess({ name: 'worker', entry: workerEntry, env: withWorkerHeapLimit(childEnv), cwd: repoRoot, logFile: logFile(settings, 'worker'), nice }));
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