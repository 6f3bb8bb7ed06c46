import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, withComposedSteps } from '../../workers/worker';
import { testTemporalAddress, testTemporalNamespace, testWorkflowBundle } from './servers';
import type { TestStack } from './stack';

type Activity = (...args: never[]) => Promise<unknown>;

/** The real activities of a stack's worker, as its worker composes them. */
export const realActivities = (stack: TestStack) => withComposedSteps(createActivities(stack.activityDeps));

/**
 * Runs a worker on the stack's task queue (a stack started with `worker: false`) with the real
 * activities, the ones in `replaced` swapped for a fault of the test's own, until `body` settles.
 * `bundle`: workflow code built otherwise than the tests' shared bundle.
 */
export async function withActivityWorker<T>(stack: TestStack, replaced: Record<string, Activity>, body: () => Promise<T>, bundle: WorkflowBundle | { codePath: string } = testWorkflowBundle()): Promise<T> {
  const connection = await NativeConnection.connect({ address: testTemporalAddress() });
  try {
    const worker = await Worker.create({
      connection,
      namespace: testTemporalNamespace(),
      taskQueue: stack.taskQueue,
      workflowBundle: bundle,
      activities: { ...realActivities(stack), ...replaced },
    });
    return await worker.runUntil(body());
  } finally {
    await connection.close();
  }
}
