import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Senders cap attempts: a provider that keeps refusing connections must not hold a workflow forever,
 * and ten attempts at most 20 s apart keep an opt-out confirmation within the five minutes we promise.
 */
export const SEND_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 10 },
};

/** Store writes retry without limit: MongoDB being down must delay a consent record, never lose it. */
export const STORE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
};
