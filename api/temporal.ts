import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';

/**
 * Starts a workflow whose id is a business key. Returns started=false, not an error, when the key is
 * already taken: a repeated webhook delivery or a duplicate start is a no-op by design.
 */
export async function startOnce(client: Client, workflowType: string, options: WorkflowStartOptions): Promise<{ started: boolean; runId?: string }> {
  try {
    const handle = await client.workflow.start(workflowType, options);
    return { started: true, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
    throw err;
  }
}

/** Signals a workflow run; a run that has already ended is not an error for a webhook. */
export async function signalIfRunning(client: Client, workflowId: string, runId: string | undefined, signal: string, arg: unknown): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId, runId).signal(signal, arg);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    const e = err as { code?: number; message?: string };
    if (/already completed|not found/i.test(e.message ?? '')) return false;
    throw err;
  }
}
