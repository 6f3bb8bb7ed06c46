import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { workerClassFor, type StuckWorkflowThread } from '../../workers/workflow-guard';
import type { finishesAtOnce, stuckInLoop } from '../fixtures/stuck-workflow';
import { connectTestClient, testTemporalAddress, testTemporalNamespace, uniqueName, type TestClient } from '../harness/servers';

/**
 * The worker's own bound on a workflow's synchronous run: workflows run normally on its threads,
 * and one stuck in a loop stops its workflow thread, so that the worker shuts down (for its
 * supervisor to restart) instead of hanging with every other workflow behind the stuck one.
 */

/** The SDK keeps this option out of its public types (its default, 5 s, is the worker's); a test shortens it. */
const oneSecondBound = { isolateExecutionTimeout: '1s' } as Partial<WorkerOptions>;

let temporal: TestClient;
beforeAll(async () => {
  temporal = await connectTestClient();
});
afterAll(async () => {
  await temporal?.close();
});

test('a workflow stuck in a loop stops the worker within the bound; one that is not runs as usual', async () => {
  const taskQueue = uniqueName('guard');
  const connection = await NativeConnection.connect({ address: testTemporalAddress() });
  const stuck: StuckWorkflowThread[] = [];
  try {
    const worker = await workerClassFor('activation', (s) => stuck.push(s)).create({
      connection,
      namespace: testTemporalNamespace(),
      taskQueue,
      workflowsPath: require.resolve('../fixtures/stuck-workflow'),
      shutdownForceTime: '5s',
      ...oneSecondBound,
    });
    const running = worker.run();

    const result = await temporal.client.workflow.execute<typeof finishesAtOnce>('finishesAtOnce', { taskQueue, workflowId: uniqueName('fine'), args: [41] });
    expect(result).toBe(42);
    expect(stuck).toEqual([]);

    const startedAt = Date.now();
    await temporal.client.workflow.start<typeof stuckInLoop>('stuckInLoop', { taskQueue, workflowId: uniqueName('stuck'), workflowTaskTimeout: '60s' });
    await expect(running).rejects.toThrow(/Workflow Worker Thread exited/);
    expect(stuck).toHaveLength(1);
    expect(stuck[0].runningMs).toBeGreaterThan(1_000);
    // Read once a second: the bound plus at most one reading's gap, and the shutdown after it.
    expect(Date.now() - startedAt).toBeLessThan(15_000);
  } finally {
    await connection.close();
  }
}, 60_000);

test("with 'per-call' the SDK's own bound fails the stuck workflow's task and the worker runs on", async () => {
  const taskQueue = uniqueName('guard-sdk');
  const connection = await NativeConnection.connect({ address: testTemporalAddress() });
  try {
    const worker = await workerClassFor('per-call').create({ connection, namespace: testTemporalNamespace(), taskQueue, workflowsPath: require.resolve('../fixtures/stuck-workflow'), ...oneSecondBound });
    await worker.runUntil(async () => {
      const stuckOne = await temporal.client.workflow.start<typeof stuckInLoop>('stuckInLoop', { taskQueue, workflowId: uniqueName('stuck'), workflowTaskTimeout: '60s' });
      await waitFor(async () => ((await stuckOne.fetchHistory()).events ?? []).some((e) => e.workflowTaskFailedEventAttributes));
      expect(await temporal.client.workflow.execute<typeof finishesAtOnce>('finishesAtOnce', { taskQueue, workflowId: uniqueName('fine'), args: [1] })).toBe(2);
      await stuckOne.terminate('test over');
    });
  } finally {
    await connection.close();
  }
}, 60_000);

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('not within 20 s');
}
