import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createCampaignActivities } from '../activities/campaign';
import { createChannelActivities, type ChannelDeps } from '../activities/channel';
import { createConfirmJourneyActivity } from '../activities/confirm-journey';
import { createConsentActivities } from '../activities/consent';
import { createDirectConsentActivities } from '../activities/direct';
import { createEventDeliveryActivities, type EventDeliveryDeps } from '../activities/event-delivery';
import { createInThreadActivities } from '../activities/inthread';
import { createOptOutActivities } from '../activities/optout';
import { createHonourAndConfirmActivity } from '../activities/optout-confirm';
import { startEventWake } from '../services/event-wake';
import { sandboxPreloads } from './bundle-options';
import { instrumentActivities, instrumentComposedSteps, type WorkerMetrics } from './metrics';
import { workerClassFor, type WorkflowGuard } from './workflow-guard';

/** What every activity factory needs; the channel activities need the most. */
export type ActivityDeps = ChannelDeps & EventDeliveryDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createChannelActivities(deps),
    ...createConsentActivities(deps),
    ...createOptOutActivities(deps),
    ...createCampaignActivities(deps),
    ...createDirectConsentActivities(deps),
    ...createInThreadActivities(deps),
    ...createEventDeliveryActivities(deps),
  };
}

/**
 * Adds the activities made of others (confirmJourney, honourAndConfirm), from the others as given:
 * instrumented ones report as they would alone.
 */
export function withComposedSteps<A extends Parameters<typeof createConfirmJourneyActivity>[0] & Parameters<typeof createHonourAndConfirmActivity>[0]>(activities: A) {
  return { ...activities, ...createConfirmJourneyActivity(activities), ...createHonourAndConfirmActivity(activities) };
}

export interface OptinflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (production); without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string;
  /** Bundling at start: keep workflows' stack frames (workers/bundle-options.ts); a prebuilt bundle decided when it was built. */
  workflowStackTraces?: boolean;
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflow tasks run at once (the SDK's default 40). */
  maxConcurrentWorkflowTaskExecutions?: number;
  maxCachedWorkflows?: number;
  /** How long a workflow task waits for this worker on its sticky queue (ms; the SDK's default 10 s). */
  stickyQueueTimeoutMs?: number;
  /** The share of workflow-task polls on the task queue rather than the sticky one (the SDK's default 0.2). */
  nonStickyPollRatio?: number;
  /** Threads that run workflow code (the SDK's default 1). */
  workflowThreads?: number;
  /** How a workflow stuck in a loop is stopped (workers/workflow-guard.ts); the SDK's 'per-call' by default. */
  workflowGuard?: WorkflowGuard;
  /** When given, the activities report what they did (sends by outcome, journeys ended, opt-outs recorded). */
  metrics?: WorkerMetrics;
  /** How long a stopping worker lets in-flight sends finish before cancelling them (ms). */
  shutdownGraceTime?: number;
  /** After this long (ms) a shutdown that still waits is abandoned, so the process can exit and a restart take over. */
  shutdownForceTime?: number;
}

/**
 * The worker, and while it runs the wake of consent-change delivery: the ledger is written here, so
 * this process signals the endpoints' delivery workflows after its appends (services/event-wake.ts).
 */
export async function createOptinflowWorker(opts: OptinflowWorkerOptions): Promise<Worker> {
  const worker = await workerClassFor(opts.workflowGuard ?? 'per-call').create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundlePath
      ? { workflowBundle: { codePath: opts.workflowBundlePath } }
      : { workflowsPath: require.resolve('../workflows'), bundlerOptions: { preloadModules: sandboxPreloads(opts.workflowStackTraces ?? false) } }),
    activities: opts.metrics ? instrumentComposedSteps(withComposedSteps(instrumentActivities(createActivities(opts.deps), opts.metrics)), opts.metrics) : withComposedSteps(createActivities(opts.deps)),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 100,
    ...(opts.maxConcurrentWorkflowTaskExecutions ? { maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTaskExecutions } : {}),
    // The SDK sizes its cache from the heap limit (thousands of workflows on a large machine); bounded, memory stays flat under campaigns.
    maxCachedWorkflows: opts.maxCachedWorkflows ?? 1500,
    ...(opts.stickyQueueTimeoutMs ? { stickyQueueScheduleToStartTimeout: opts.stickyQueueTimeoutMs } : {}),
    ...(opts.nonStickyPollRatio ? { nonStickyToStickyPollRatio: opts.nonStickyPollRatio } : {}),
    ...(opts.workflowThreads ? { workflowThreadPoolSize: opts.workflowThreads } : {}),
    // Every activity is idempotent, so an attempt cut short is retried safely elsewhere; the bounds only decide how long a deploy waits.
    shutdownGraceTime: opts.shutdownGraceTime ?? 10_000,
    shutdownForceTime: opts.shutdownForceTime ?? 30_000,
  });
  const run = worker.run.bind(worker);
  worker.run = async () => {
    const client = new Client({ connection: opts.connection, namespace: opts.namespace });
    const stopWake = startEventWake({ client, taskQueue: opts.taskQueue, store: opts.deps.store }, { warn: (fields, msg) => Runtime.instance().logger.warn(msg, fields as Record<string, unknown>) });
    try {
      return await run();
    } finally {
      stopWake();
    }
  };
  return worker;
}
