import { Context } from '@temporalio/activity';
import type { BareReply, BareStep } from './contract';

export interface BareActivityDeps {
  /** Tells the benchmark a step of a journey is done, as the carrier does for the real one. */
  note(step: BareStep, workflowId: string): void;
}

/** The bare journey's steps: no work, only the note the benchmark times them by. */
export function createBareActivities(deps: BareActivityDeps) {
  const done = (step: BareStep) => deps.note(step, Context.current().info.workflowExecution?.workflowId ?? '?');
  return {
    async request(): Promise<void> {
      done('requested');
    },
    async record(_reply: BareReply): Promise<void> {
      done('recorded');
    },
    async confirm(): Promise<void> {
      done('confirmed');
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
