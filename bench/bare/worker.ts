import { NativeConnection, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { createLogger } from '../../lib/logger';
import { temporalConnectionOptions } from '../../lib/temporal';
import { sandboxPreloads } from '../../workers/bundle-options';
import { workerClassFor } from '../../workers/workflow-guard';
import { createBareActivities } from './activities';
import { BARE_NOTE_PREFIX, BARE_READY_LINE } from './contract';

/**
 * The bare baseline's worker, started by the benchmark exactly as it starts the production worker (its
 * own Node process, the same environment, connection, logger and worker settings), polling
 * BARE_TASK_QUEUE. Prints one line per finished step for the benchmark to time, and a ready line once
 * the workflow code is bundled.
 */

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const taskQueue = process.env.BARE_TASK_QUEUE;
  if (!taskQueue) throw new Error('BARE_TASK_QUEUE is required: the bare worker must not poll the product task queue');
  const logger = createLogger('bare-worker', config.LOG_LEVEL);
  const toPino = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ?? 'info';
    logger[method](meta ?? {}, message);
  };
  Runtime.install({
    logger: {
      log: toPino,
      trace: (m, meta) => toPino('TRACE', m, meta),
      debug: (m, meta) => toPino('DEBUG', m, meta),
      info: (m, meta) => toPino('INFO', m, meta),
      warn: (m, meta) => toPino('WARN', m, meta),
      error: (m, meta) => toPino('ERROR', m, meta),
    },
  });

  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  // The same workflow guard as Optinflow's worker (WORKER_WORKFLOW_GUARD), for the same reason.
  const worker = await workerClassFor(config.WORKER_WORKFLOW_GUARD).create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: require.resolve('./workflow'),
    // The same sandbox setting as Optinflow's worker, so the two designs compare, not the settings.
    bundlerOptions: { preloadModules: sandboxPreloads(config.WORKER_WORKFLOW_STACK_TRACES === 'on') },
    activities: createBareActivities({ note: (step, workflowId) => process.stdout.write(`${BARE_NOTE_PREFIX}${step} ${workflowId} ${Date.now()}\n`) }),
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    stickyQueueScheduleToStartTimeout: config.WORKER_STICKY_QUEUE_TIMEOUT_SECONDS * 1000,
    nonStickyToStickyPollRatio: config.WORKER_NONSTICKY_POLL_RATIO,
    workflowThreadPoolSize: config.WORKER_WORKFLOW_THREADS,
  });
  process.stdout.write(`${BARE_READY_LINE}\n`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error('bare worker failed:', err);
  process.exit(1);
});
