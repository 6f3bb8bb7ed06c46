import { inspect } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { NativeConnection } from '@temporalio/worker';
import { createMailer } from '../activities/providers/mailer';
import { createMetaClient } from '../activities/providers/meta';
import { createTwilioClient } from '../activities/providers/twilio';
import { ConfigError, loadConfig, metaSettings } from '../config/config';
import { loadBusinesses } from '../lib/businesses';
import { createLogger } from '../lib/logger';
import { redactText } from '../lib/redact';
import { eventSecretsBox } from '../lib/secret-box';
import { outliveUnhandledRejections } from '../lib/unhandled-rejections';
import { temporalConnectionOptions } from '../lib/temporal';
import { connectStore } from '../store/models';
import { installRuntimeLogger } from './logging';
import { startWorkerTelemetry } from './metrics-server';
import { createOptinflowWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('worker', config.LOG_LEVEL);
  outliveUnhandledRejections(process, logger);
  const telemetry = await startWorkerTelemetry(config);
  installRuntimeLogger(logger, telemetry.telemetryOptions);

  const businesses = loadBusinesses(config.BUSINESSES_FILE);
  const meta = metaSettings(config, businesses.usesMeta());
  const store = await connectStore(config.MONGODB_URI);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await createOptinflowWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundlePath: config.WORKFLOW_BUNDLE_PATH,
    workflowStackTraces: config.WORKER_WORKFLOW_STACK_TRACES === 'on',
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    stickyQueueTimeoutMs: config.WORKER_STICKY_QUEUE_TIMEOUT_SECONDS * 1000,
    nonStickyPollRatio: config.WORKER_NONSTICKY_POLL_RATIO,
    workflowThreads: config.WORKER_WORKFLOW_THREADS,
    workflowGuard: config.WORKER_WORKFLOW_GUARD,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    shutdownForceTime: config.WORKER_SHUTDOWN_FORCE_SECONDS * 1000,
    metrics: telemetry.metrics,
    deps: {
      store,
      businesses,
      twilio: createTwilioClient({ accountSid: config.TWILIO_ACCOUNT_SID, authToken: config.TWILIO_AUTH_TOKEN, apiBaseUrl: config.TWILIO_API_BASE_URL }),
      meta: meta ? createMetaClient({ accessToken: meta.accessToken, graphBaseUrl: meta.graphBaseUrl }) : undefined,
      mailer: createMailer({ smtpUrl: config.SMTP_URL }),
      publicBaseUrl: config.PUBLIC_BASE_URL,
      pageTokenSecret: config.PAGE_TOKEN_SECRET,
      allowPrivateReceivers: config.EVENT_ENDPOINTS_ALLOW_PRIVATE,
      eventSecrets: eventSecretsBox(config),
    },
  });
  // Each of the worker's isolates has this limit; the launchers set 256 MiB (dev/worker-heap.ts), and an unbounded worker grows far past it.
  const heapLimitMiB = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE, heapLimitMiB }, 'worker started');
  try {
    await worker.run();
  } finally {
    await connection.close();
    await store.connection.close();
    await telemetry.close();
  }
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error(`worker failed: ${redactText(inspect(err))}`);
  }
  process.exit(1);
});
