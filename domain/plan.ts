import type { Channel } from './business';

/** A journey's plan as the workflow runs it: per step, the channel, how long to wait and when to remind. */
export interface PlanStep {
  channel: Channel;
  waitForMs: number;
  remindAfterMs: number[];
}

const HOUR_MS = 3_600_000;

/** Without a plan: SMS with a reminder, then e-mail when we have an address; 72 hours in all. */
export function defaultPlan(hasEmail: boolean): PlanStep[] {
  return hasEmail
    ? [
        { channel: 'sms', waitForMs: 48 * HOUR_MS, remindAfterMs: [24 * HOUR_MS] },
        { channel: 'email', waitForMs: 24 * HOUR_MS, remindAfterMs: [] },
      ]
    : [{ channel: 'sms', waitForMs: 72 * HOUR_MS, remindAfterMs: [24 * HOUR_MS, 48 * HOUR_MS] }];
}

/**
 * One question on one channel, answered within a day: what the contact's own acts start (an agent's
 * in-chat request, the web form, the preference page, a missed call).
 */
export function askOncePlan(channel: Channel): PlanStep[] {
  return [{ channel, waitForMs: 24 * HOUR_MS, remindAfterMs: [] }];
}
