import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { createCrashActivities } from '../fixtures/crash-activities';
import { proceedSignal, type twoStepJourney } from '../fixtures/crash-workflows';
import { connectTestClient, testTemporalAddress, testTemporalNamespace, uniqueName, type TestClient } from '../harness/servers';

/**
 * A worker process dies (SIGKILL, no shutdown) after the first activity completed, while the
 * workflow waits for a signal. A new worker must finish the journey from the recorded history:
 * the first activity's result comes from history and the activity is not run again.
 */

const repoRoot = path.resolve(__dirname, '..', '..');

type Events = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

async function historyEvents(handle: WorkflowHandle): Promise<Events> {
  return (await handle.fetchHistory()).events ?? [];
}

/** True once the first activity completed and the workflow task after it did too: the workflow now waits for the signal. */
function waitingAfterFirstActivity(events: Events): boolean {
  const completedAt = events.findIndex((e) => e.activityTaskCompletedEventAttributes);
  return completedAt >= 0 && events.slice(completedAt).some((e) => e.workflowTaskCompletedEventAttributes);
}

describe('a worker killed while a journey waits', () => {
  let workDir: string;
  let bundlePath: string;
  let temporal: TestClient;
  let crashWorker: ManagedProcess | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-crash-'));
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../fixtures/crash-workflows'), logger: new DefaultLogger('WARN') });
    bundlePath = path.join(workDir, 'crash-workflows.js');
    writeFileSync(bundlePath, bundle.code);
    temporal = await connectTestClient();
  });

  afterAll(async () => {
    await crashWorker?.stop(1_000);
    await temporal?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('is replaced by a new worker that finishes the journey without re-running the first activity', async () => {
    const taskQueue = uniqueName('crash');
    const journeyId = uniqueName('journey');
    const ledgerFile = path.join(workDir, `${journeyId}.ledger`);
    writeFileSync(ledgerFile, '');

    crashWorker = startNodeProcess({
      name: 'crash-worker',
      entry: path.join(repoRoot, 'test', 'fixtures', 'crash-worker.ts'),
      cwd: repoRoot,
      env: {
        ...process.env,
        CRASH_TEMPORAL_ADDRESS: testTemporalAddress(),
        CRASH_NAMESPACE: testTemporalNamespace(),
        CRASH_TASK_QUEUE: taskQueue,
        CRASH_WORKFLOW_BUNDLE: bundlePath,
        CRASH_LEDGER_FILE: ledgerFile,
      },
    });
    const worker = crashWorker;
    await waitUntil(() => worker.tail(50).includes('crash-worker polling'), { timeoutMs: 60_000, what: 'the crash worker to poll', process: worker });
    const crashedPid = worker.child.pid!;

    const handle = await temporal.client.workflow.start<typeof twoStepJourney>('twoStepJourney', { taskQueue, workflowId: journeyId, args: [journeyId] });
    await waitUntil(async () => waitingAfterFirstActivity(await historyEvents(handle)), { timeoutMs: 60_000, what: 'the first activity to complete', process: worker });

    process.kill(-crashedPid, 'SIGKILL');
    expect(await worker.exited).toMatchObject({ signal: 'SIGKILL' });

    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    try {
      const replacement = await Worker.create({
        connection,
        namespace: testTemporalNamespace(),
        taskQueue,
        workflowBundle: { codePath: bundlePath },
        activities: createCrashActivities({ ledgerFile }),
      });
      const result = await replacement.runUntil(async () => {
        await handle.signal(proceedSignal);
        return handle.result();
      });

      expect(result).toEqual({
        first: { step: 'first', journeyId, pid: crashedPid },
        second: { step: 'second', journeyId, pid: process.pid },
      });
    } finally {
      await connection.close();
    }

    expect(readFileSync(ledgerFile, 'utf8').trim().split('\n')).toEqual([`first ${journeyId} ${crashedPid}`, `second ${journeyId} ${process.pid}`]);
    const events = await historyEvents(handle);
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    const started = events.filter((e) => e.activityTaskStartedEventAttributes);
    expect(scheduled).toHaveLength(2);
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1, 1]);
  });
});
