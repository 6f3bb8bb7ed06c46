import { WorkflowFailedError, type Client } from '@temporalio/client';
import { withinMs } from '../lib/within-ms';

/**
 * Waits up to ms for a workflow to close: 'closed' (completed or failed alike) or undefined; other
 * errors (not found, unreachable) are thrown. At the deadline the long poll is cancelled on the wire
 * rather than left running: a poll left behind would outlive its caller, and when the server then
 * went away the client's retry would fire on a closed connection and throw outside any caller.
 */
export async function closedWithinMs(client: Client, workflowId: string, ms: number): Promise<'closed' | undefined> {
  const ctrl = new AbortController();
  const polling = client.withAbortSignal(ctrl.signal, () => client.workflow.getHandle(workflowId).result());
  const settled = polling.then(
    () => 'closed' as const,
    (err: unknown) => (ctrl.signal.aborted ? undefined : err instanceof WorkflowFailedError ? ('closed' as const) : Promise.reject(err)),
  );
  try {
    return await withinMs(settled, ms);
  } finally {
    ctrl.abort();
    settled.catch(() => undefined);
  }
}
