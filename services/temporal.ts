import {
  isGrpcServiceError,
  ServiceError as TemporalServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import type { WorkflowRef } from '../workflows/workflow-ref';
import { UnavailableError } from './errors';

/** The Temporal side of every service: the client and the task queue workflows run on. */
export interface TemporalAccess {
  client: Client;
  taskQueue: string;
}

/** gRPC NOT_FOUND: the server's answer for a run that has closed or never existed. */
const GRPC_NOT_FOUND = 5;

/**
 * The one reading of "that run is gone": the server answers NOT_FOUND for a signal, update or query to
 * a run that has completed (or never existed). The SDK raises WorkflowNotFoundError for most calls and
 * a plain ServiceError wrapping the gRPC error for some; both mean the same here. A client on the
 * worker's NativeConnection (an activity's getClient()) raises the gRPC error's own fields on a
 * ServiceError of the SDK's, with no cause.
 */
export function isClosedWorkflow(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = err instanceof TemporalServiceError && err.cause ? err.cause : err;
  return isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND;
}

type StartOptions = Omit<WorkflowStartOptions, 'args' | 'taskQueue' | 'workflowId'>;

/**
 * Starts a workflow whose id is a business key. started is false, not an error, when the key is taken:
 * a repeated webhook delivery or a duplicate start is a no-op by design.
 */
export async function startOnce<I, R>(t: TemporalAccess, ref: WorkflowRef<I, R>, workflowId: string, input: I, options: StartOptions = {}): Promise<{ started: boolean; runId?: string }> {
  try {
    const handle = await t.client.workflow.start(ref.type, { ...options, workflowId, taskQueue: t.taskQueue, args: [input] });
    return { started: true, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
    throw err;
  }
}

/** Signals a run; false when it has ended (a webhook arriving late is not an error). */
export async function signalIfRunning<A extends unknown[]>(client: Client, workflowId: string, runId: string | undefined, signal: SignalDefinition<A>, ...args: A): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId, runId).signal(signal, ...args);
    return true;
  } catch (err) {
    if (isClosedWorkflow(err)) return false;
    throw err;
  }
}

/** The run's status name (RUNNING, COMPLETED, ...), or undefined when there is no such run. */
export async function runStatus(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    return (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** gRPC codes that mean Temporal did not answer (cancelled, past the deadline, unreachable). */
const GRPC_NOT_ANSWERED = new Set([1, 4, 14]);

/** True when a Temporal call failed because the server did not answer, not because it refused. */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const cause = err instanceof TemporalServiceError && err.cause ? err.cause : err;
  return isGrpcServiceError(cause) && GRPC_NOT_ANSWERED.has(cause.code);
}

/** Runs Temporal calls with a deadline; a call past it is an UnavailableError naming what did not answer. */
export async function within<T>(client: Client, ms: number, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + ms, call);
  } catch (err) {
    if (isTemporalUnavailable(err)) throw new UnavailableError(`${what} did not answer within ${ms / 1000} s; nothing was changed; try again`);
    throw err;
  }
}
