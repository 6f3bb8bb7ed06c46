import type { ConsentActivities } from '../../activities/consent';

/**
 * Which code a journey run follows where the journey changed while runs were open (./workflow.ts):
 * the newest type takes every newer branch; journeyWorkflow asks `patched` for each.
 */
export interface JourneyCode {
  /** A failed delivery or an unanswered call reported before its send returned still ends the step. */
  keepEarlyReports: boolean;
  /** The journey begins inside its first send, not in a beginJourney step of its own. */
  leanStart: boolean;
  /** Opt-in requests wait for quiet hours and the frequency cap (./deferral.ts). */
  policed: boolean;
  /** The store steps: local activities, or activities for a run whose history scheduled them so. */
  storeSteps: () => ConsentActivities;
  /** A confirmed answer is recorded, confirmed and the end stored in one activity (./confirm.ts). */
  oneStepConfirm: boolean;
  /**
   * The journey's own sends (requests, reminders, the clarification) and its one-step confirmation
   * run as local activities in the workflow task that decides them: a reminder or a confirmed answer
   * costs one workflow task instead of two and no activity task. Each is idempotent by its keys, so a
   * task retried after a crash writes and sends nothing twice.
   */
  sendsInTask: boolean;
  /**
   * An opt-out's step that comes with its `optedOut` signal is run here, as a local activity in the
   * journey's own task, and the journey's record says so, which is how the API knows it may send one
   * (journeyWorkflowV5). Older types ignore the step: the API never sends it to them.
   */
  carriesOptOuts: boolean;
}
