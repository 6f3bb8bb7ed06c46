import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import { buildApp, type ApiDeps } from '../../api/app';
import { API_LISTEN_BACKLOG_DEFAULT } from '../../config/config';
import { createMailer } from '../../activities/providers/mailer';
import { createMetaClient } from '../../activities/providers/meta';
import { createTwilioClient } from '../../activities/providers/twilio';
import { startCarrier, type Carrier } from '../../dev/carrier/carrier';
import { carrierContentFor, carrierMetaFor } from '../../dev/content-templates';
import type { BusinessRegistry } from '../../domain/business';
import { loadBusinesses } from '../../lib/businesses';
import { secretBox } from '../../lib/secret-box';
import { connectStore, type Store } from '../../store/models';
import { createOptinflowWorker, type ActivityDeps } from '../../workers/worker';
import { testMongoUri, testTemporalAddress, testTemporalNamespace, testWorkflowBundle, uniqueName, withDatabase } from './servers';
import { readBody } from './http';
import { boundedStep } from './teardown';
import { temporalClientInterceptors } from '../../lib/temporal-interceptors';

export const TEST_ACCOUNT_SID = 'AC' + 'ab'.repeat(16);
export const TEST_AUTH_TOKEN = 'test-auth-token-0123456789';
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const TEST_PAGE_SECRET = 'test-page-token-secret-0123456789abcdef';
export const TEST_ERASURE_SECRET = 'test-erasure-hash-secret-0123456789abcdef';
export const TEST_EVENT_SECRETS_KEY = 'test-event-secrets-key-0123456789abcdef';
/**
 * Tests stop workers mid-journey on purpose: in-flight activities are cancelled at once (as a crash
 * would leave them, to be retried), and a shutdown that still hangs is cut off instead of holding the file.
 */
const TEST_WORKER_SHUTDOWN = { shutdownGraceTime: 0, shutdownForceTime: 20_000 };
export const TEST_META = { accessToken: 'test-meta-access-token-0123456789', appSecret: 'test-meta-app-secret-0123456789', verifyToken: 'test-meta-verify-token-0123456789' };

let runtimeInstalled = false;

export interface TestStack {
  taskQueue: string;
  dbName: string;
  store: Store;
  client: Client;
  carrier: Carrier;
  businesses: BusinessRegistry;
  api: FastifyInstance;
  apiUrl: string;
  apiKey: string;
  activityDeps: ActivityDeps;
  /** Starts (another) worker with the real activities on this stack's task queue. */
  startWorker(): Promise<RunningWorker>;
  worker?: RunningWorker;
  /** Calls the API over HTTP with the API key. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * One line for a test file: real Temporal (own task queue), real FerretDB (own database), the local
 * carrier on free ports, a worker with the real activities and the API listening on loopback.
 */
export async function startTestStack(opts: { worker?: boolean; prefix?: string; businessesFile?: string; temporal?: { address: string; namespace: string }; mongoUri?: string } = {}): Promise<TestStack> {
  const temporalAddress = opts.temporal?.address ?? testTemporalAddress();
  const temporalNamespace = opts.temporal?.namespace ?? testTemporalNamespace();
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const taskQueue = uniqueName(opts.prefix ?? 'tq');
  const dbName = uniqueName('db');
  const businesses = loadBusinesses(opts.businessesFile ?? path.join(__dirname, '..', '..', 'config', 'businesses.demo.json'));
  const store = await connectStore(opts.mongoUri ? withDatabase(opts.mongoUri, dbName) : testMongoUri(dbName));
  const connection = await Connection.connect({ address: temporalAddress, interceptors: temporalClientInterceptors() });
  const client = new Client({ connection, namespace: temporalNamespace });
  const content = carrierContentFor(businesses.all());
  const meta = carrierMetaFor(businesses.all(), { accessToken: TEST_META.accessToken, appSecret: TEST_META.appSecret });
  const carrier = await startCarrier({ httpPort: 0, smtpPort: 0, accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, statusCallbackDelayMs: 20, ...content, meta });

  // Tests play clients behind a proxy (X-Forwarded-For) to exercise per-IP limits.
  const apiDeps: Omit<ApiDeps, 'publicBaseUrl'> = { client, store, businesses, taskQueue, apiKeys: [TEST_API_KEY], twilioAuthToken: TEST_AUTH_TOKEN, pageTokenSecret: TEST_PAGE_SECRET, erasureHashSecret: TEST_ERASURE_SECRET, eventSecrets: secretBox(TEST_EVENT_SECRETS_KEY), allowPrivateReceivers: true, meta: { ...TEST_META, graphBaseUrl: carrier.httpUrl }, trustProxy: true };
  // The public URL is only known after listening; build once to learn the port, then for real.
  const probe = await buildApp({ ...apiDeps, publicBaseUrl: 'http://127.0.0.1' });
  await probe.listen({ host: '127.0.0.1', port: 0 });
  const port = (probe.server.address() as { port: number }).port;
  await probe.close();
  const apiUrl = `http://127.0.0.1:${port}`;
  const api = await buildApp({ ...apiDeps, publicBaseUrl: apiUrl });
  // As api/server.ts listens, so a burst the API cannot take at once queues the same way.
  await api.listen({ host: '127.0.0.1', port, backlog: API_LISTEN_BACKLOG_DEFAULT });
  carrier.setInboundMessageUrl(`${apiUrl}/webhooks/twilio/messaging`);
  if (meta) carrier.setMetaWebhookUrl(`${apiUrl}/webhooks/meta`);

  const activityDeps: ActivityDeps = {
    store,
    businesses,
    twilio: createTwilioClient({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: carrier.httpUrl }),
    meta: createMetaClient({ accessToken: TEST_META.accessToken, graphBaseUrl: carrier.httpUrl }),
    mailer: createMailer({ smtpUrl: `smtp://127.0.0.1:${carrier.smtpPort}` }),
    publicBaseUrl: apiUrl,
    pageTokenSecret: TEST_PAGE_SECRET,
    // Test receivers listen on loopback; event-endpoint-guard.test.ts turns this off to see the refusals.
    allowPrivateReceivers: true,
    eventSecrets: secretBox(TEST_EVENT_SECRETS_KEY),
  };

  const workers: RunningWorker[] = [];
  const startWorker = async (): Promise<RunningWorker> => {
    const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    const worker = await createOptinflowWorker({
      connection: nativeConnection,
      namespace: temporalNamespace,
      taskQueue,
      workflowBundlePath: testWorkflowBundle().codePath,
      deps: activityDeps,
      ...TEST_WORKER_SHUTDOWN,
    });
    const running = worker.run();
    let stopped: Promise<void> | undefined;
    const handle: RunningWorker = {
      worker,
      // Idempotent: a test may stop its worker early and stack.close() stops it again.
      stop: () =>
        (stopped ??= (async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
          await nativeConnection.close().catch(() => undefined);
        })()),
    };
    workers.push(handle);
    return handle;
  };

  const stack: TestStack = {
    taskQueue,
    dbName,
    store,
    client,
    carrier,
    businesses,
    api,
    apiUrl,
    apiKey: TEST_API_KEY,
    activityDeps,
    startWorker,
    async request(method, p, body) {
      const res = await fetch(`${apiUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: await readBody(res) };
    },
    async close() {
      // The worker's own force time (TEST_WORKER_SHUTDOWN) bounds it first; these bounds keep the whole close under a hook's timeout.
      for (const w of workers) await boundedStep('worker', () => w.stop(), 25_000);
      await boundedStep('api', () => api.close(), 5_000);
      await boundedStep('carrier', () => carrier.close(), 5_000);
      await boundedStep('store', async () => {
        await store.connection.dropDatabase().catch(() => undefined);
        await store.connection.close();
      }, 5_000);
      await boundedStep('temporal client', () => connection.close(), 3_000);
    },
  };
  if (opts.worker !== false) stack.worker = await startWorker();
  return stack;
}
