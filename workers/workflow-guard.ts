import path from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Worker } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options';
import { ThreadedVMWorkflowCreator, WorkerThreadClient } from '@temporalio/worker/lib/workflow/threaded-vm';

/**
 * How the worker bounds a workflow's synchronous run (a workflow stuck in a loop):
 * - `activation`: the workflow thread publishes when its current call into a
 *   workflow's sandbox began (workers/workflow-thread.cjs); this thread reads it once a second and,
 *   past `isolateExecutionTimeout` (5 s), stops the workflow thread, which makes the SDK shut the
 *   worker down for its supervisor to restart.
 * - `per-call` (the default): the SDK's own bound, a Node watchdog thread started and joined for
 *   every call into the sandbox, which fails only the stuck workflow's task. The threads cost CPU
 *   (0.1 ms a call idle, 0.5 ms on a saturated machine), which made the bare baseline much faster
 *   without them but Optinflow's passes no faster within this machine's spread (docs/performance.md).
 */
export type WorkflowGuard = 'activation' | 'per-call';

const THREAD_ENTRY = path.join(__dirname, 'workflow-thread.cjs');
const CHECK_EVERY_MS = 1_000;

/** A stuck call seen by the guard: which thread, and for how long it had been running. */
export interface StuckWorkflowThread {
  thread: number;
  runningMs: number;
}

/** Starts one workflow thread and watches it; `onStuck` is told before the thread is stopped. */
function startGuardedThread(index: number, limitMs: number, logger: Logger, onStuck: (s: StuckWorkflowThread) => void): NodeWorker {
  const runningSince = new SharedArrayBuffer(4);
  const clockBase = Date.now();
  const thread = new NodeWorker(THREAD_ENTRY, { workerData: { runningSince, clockBase } });
  const since = new Int32Array(runningSince);
  const timer = setInterval(() => {
    const started = Atomics.load(since, 0);
    if (started === 0) return;
    const runningMs = Date.now() - clockBase - (started - 1) * 100;
    if (runningMs <= limitMs) return;
    clearInterval(timer);
    logger.error('a workflow ran past the bound on one synchronous run; stopping its workflow thread, which shuts the worker down', { thread: index, runningMs, limitMs });
    onStuck({ thread: index, runningMs });
    void thread.terminate();
  }, CHECK_EVERY_MS);
  timer.unref();
  thread.once('exit', () => clearInterval(timer));
  return thread;
}

/**
 * The Worker class to create the worker with: the SDK's own for `per-call`, else one whose workflow
 * threads are bounded by `activation` (above). `onStuck` hears of a stuck thread before it is stopped.
 */
export function workerClassFor(guard: WorkflowGuard, onStuck: (s: StuckWorkflowThread) => void = () => undefined): typeof Worker {
  if (guard === 'per-call') return Worker;
  return class GuardedWorker extends Worker {
    protected static override async createWorkflowCreator(workflowBundle: WorkflowBundleWithSourceMapAndFilename, compiledOptions: CompiledWorkerOptions, logger: Logger): Promise<WorkflowCreator> {
      // The SDK's debug mode runs workflows on the main thread, with no thread to stop.
      if (compiledOptions.debugMode) return super.createWorkflowCreator(workflowBundle, compiledOptions, logger);
      const limitMs = compiledOptions.isolateExecutionTimeoutMs;
      const clients = Array.from({ length: compiledOptions.workflowThreadPoolSize }, (_, i) => new WorkerThreadClient(startGuardedThread(i, limitMs, logger, onStuck), logger, compiledOptions.patchActivationCallback));
      await Promise.all(
        clients.map((client) =>
          client.send({
            type: 'init',
            workflowBundle,
            isolateExecutionTimeoutMs: limitMs,
            reuseV8Context: compiledOptions.reuseV8Context ?? true,
            registeredActivityNames: new Set(compiledOptions.activities.keys()),
            hasPatchActivationCallback: compiledOptions.patchActivationCallback !== undefined,
          }),
        ),
      );
      return new ThreadedVMWorkflowCreator(clients);
    }
  };
}
