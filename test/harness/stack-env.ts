/**
 * The test stack's settings handed to other things: the environment of a production worker run as a
 * child process, the API's dependencies with another Temporal client, and a client that reaches no server.
 */
import { Client, Connection } from '@temporalio/client';
import path from 'node:path';
import { createServer } from 'node:net';
import type { ApiDeps } from '../../api/app';
import { secretBox } from '../../lib/secret-box';
import { testMongoUri, testTemporalAddress, testTemporalNamespace, testWorkflowBundle } from './servers';
import { TEST_ACCOUNT_SID, TEST_API_KEY, TEST_AUTH_TOKEN, TEST_ERASURE_SECRET, TEST_EVENT_SECRETS_KEY, TEST_META, TEST_PAGE_SECRET, type TestStack } from './stack';

/**
 * The environment that runs the production worker (`workers/main.ts`) as a child process against this
 * stack: same task queue, database, carrier and secrets as the in-process worker.
 */
export function productionWorkerEnv(stack: TestStack, businessesFile = path.join(__dirname, '..', '..', 'config', 'businesses.demo.json')): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: testTemporalNamespace(),
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    WORKFLOW_BUNDLE_PATH: testWorkflowBundle().codePath,
    MONGODB_URI: testMongoUri(stack.dbName),
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_API_BASE_URL: stack.carrier.httpUrl,
    SMTP_URL: `smtp://127.0.0.1:${stack.carrier.smtpPort}`,
    PUBLIC_BASE_URL: stack.apiUrl,
    API_KEYS: TEST_API_KEY,
    PAGE_TOKEN_SECRET: TEST_PAGE_SECRET,
    ERASURE_HASH_SECRET: TEST_ERASURE_SECRET,
    EVENT_SECRETS_KEY: TEST_EVENT_SECRETS_KEY,
    META_ACCESS_TOKEN: TEST_META.accessToken,
    META_APP_SECRET: TEST_META.appSecret,
    META_VERIFY_TOKEN: TEST_META.verifyToken,
    META_GRAPH_BASE_URL: stack.carrier.httpUrl,
    BUSINESSES_FILE: businessesFile,
    // Off unless a test asks: test files run side by side, and a fixed port would collide.
    WORKER_METRICS_PORT: '0',
    WORKER_SDK_METRICS_PORT: '0',
  };
}

/** The API's dependencies on this stack, with another Temporal client (e.g. one that reaches no server). */
export function apiDepsWith(stack: TestStack, client: Client): ApiDeps {
  return { client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, apiKeys: [stack.apiKey], twilioAuthToken: TEST_AUTH_TOKEN, publicBaseUrl: stack.apiUrl, pageTokenSecret: TEST_PAGE_SECRET, meta: { ...TEST_META, graphBaseUrl: stack.carrier.httpUrl }, erasureHashSecret: TEST_ERASURE_SECRET, eventSecrets: secretBox(TEST_EVENT_SECRETS_KEY), allowPrivateReceivers: true };
}

/**
 * A Temporal client for this stack's namespace that reaches no server: a port that was free a moment
 * ago, and no SDK retries, so every call fails at once as it would time out on an overloaded server.
 */
export async function unreachableTemporalClient(stack: TestStack): Promise<Client> {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const { port } = free.address() as { port: number };
  await new Promise((resolve) => free.close(resolve));
  const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
  return new Client({ connection, namespace: stack.client.options.namespace });
}
