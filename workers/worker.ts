import { NativeConnection, Worker } from '@temporalio/worker';
import { createCampaignActivities } from '../activities/campaign';
import { createChannelActivities, type ChannelDeps } from '../activities/channel';
import { createConsentActivities } from '../activities/consent';
import { createDirectConsentActivities } from '../activities/direct';
import { createInThreadActivities } from '../activities/inthread';
import { createOptOutActivities } from '../activities/optout';
import { instrumentActivities, type WorkerMetrics } from './metrics';

/** What every activity factory needs; the channel activities need the most. */
export type ActivityDeps = ChannelDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createChannelActivities(deps),
    ...createConsentActivities(deps),
    ...createOptOutActivities(deps),
    ...createCampaignActivities(deps),
    ...createDirectConsentActivities(deps),
    ...createInThreadActivities(deps),
  };
}

export interface OptinflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (production); without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxCachedWorkflows?: number;
  /** When given, the activities report what they did (sends by outcome, journeys ended, opt-outs recorded). */
  metrics?: WorkerMetrics;
}

export async function createOptinflowWorker(opts: OptinflowWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundlePath ? { workflowBundle: { codePath: opts.workflowBundlePath } } : { workflowsPath: require.resolve('../workflows') }),
    activities: opts.metrics ? instrumentActivities(createActivities(opts.deps), opts.metrics) : createActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 100,
    // The SDK sizes its cache from the heap limit (thousands of workflows on a large machine); bounded, memory stays flat under campaigns.
    maxCachedWorkflows: opts.maxCachedWorkflows ?? 500,
  });
}
