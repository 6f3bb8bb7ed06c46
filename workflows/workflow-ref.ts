/**
 * A workflow as its callers know it: the type name plus the types of its input and result, so the API,
 * services and activities start it with typed arguments without importing the workflow's body.
 */
export interface WorkflowRef<I, R> {
  readonly type: string;
  /** Carries the types only; never set. */
  readonly signature?: (input: I) => Promise<R>;
}

export function defineWorkflowRef<I, R>(type: string): WorkflowRef<I, R> {
  return { type };
}
