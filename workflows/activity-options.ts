import { ActivityFailure, ApplicationFailure, patched, proxyActivities, proxyLocalActivities, TimeoutFailure, type ActivityOptions, type LocalActivityOptions, type TemporalFailure } from '@temporalio/workflow';

/** The send activity's last attempt gives up on an unresolved ambiguous send instead of failing. */
export const SEND_MAX_ATTEMPTS = 10;

/**
 * Senders cap attempts: a provider that keeps refusing connections must not hold a workflow forever,
 * and ten attempts at most 20 s apart keep an opt-out confirmation within the five minutes we promise.
 */
export const SEND_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: SEND_MAX_ATTEMPTS },
};

/**
 * A journey's own sends and its one-step confirmation as local activities (journeyWorkflowV4): the
 * same attempts as an activity, the attempt number included (the last attempt gives up on an
 * ambiguous send), retried by the worker and with timers once the wait passes 10 s.
 */
export const LOCAL_SEND_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  localRetryThreshold: '10s',
  retry: SEND_ACTIVITY_OPTIONS.retry,
};

/** Store writes retry without limit: MongoDB being down must delay a consent record, never lose it. */
export const STORE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

/** The same writes as local activities: retried by the worker, with timers once the wait passes 10 s. */
export const LOCAL_STORE_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

export const LOCAL_STORE_STEPS_PATCH = 'store-steps-local';

/**
 * Store steps (idempotent writes of about 70 ms) run as local activities: no task queue round trip and
 * three fewer history events each, which is most of what the Temporal server does for a journey. A
 * workflow whose history already scheduled them as activities replays that way (`patched`), and
 * takes the local path for its steps after this code is deployed.
 */
export function proxyStoreSteps<A extends object>(): () => A {
  const remote = proxyActivities<A>(STORE_ACTIVITY_OPTIONS) as A;
  const local = proxyLocalActivities<A>(LOCAL_STORE_ACTIVITY_OPTIONS) as A;
  return () => (patched(LOCAL_STORE_STEPS_PATCH) ? local : remote);
}

/** The store steps as local activities only: for workflow code no history ever ran them as activities. */
export function proxyLocalStoreSteps<A extends object>(): A {
  return proxyLocalActivities<A>(LOCAL_STORE_ACTIVITY_OPTIONS) as A;
}

/**
 * Whether a step gave up (its attempts spent, or a failure it called final): an activity's failure
 * arrives wrapped in an ActivityFailure, a local activity's as its cause itself (ApplicationFailure,
 * TimeoutFailure). A cancellation is none of these and goes on up.
 */
export function stepGaveUp(err: unknown): err is TemporalFailure {
  return err instanceof ActivityFailure || err instanceof ApplicationFailure || err instanceof TimeoutFailure;
}
