import { ApplicationFailure } from '@temporalio/activity';
import type { HonourAndConfirmInput } from '../../activities/optout-confirm';
import { realActivities, withActivityWorker } from './activity-worker';
import type { TestStack } from './stack';

/** The opt-out's one step (`honourAndConfirm`) under test: a worker running it as given, or as it is. */

export const isOptOutConfirmation = (body: string) => body.includes('you are unsubscribed');

export type StepFault = (input: HonourAndConfirmInput) => Promise<unknown>;

/** Runs `body` while a worker polls whose `honourAndConfirm` is `fault` (the real one when undefined). */
export function withStepWorker<T>(stack: TestStack, fault: StepFault | undefined, body: () => Promise<T>): Promise<T> {
  return withActivityWorker(stack, fault ? { honourAndConfirm: fault } : {}, body);
}

/**
 * A step that blocks, writes the ledger and sends the confirmation for real, then gives up as if the
 * worker lost the store: what follows must find all of it done and send nothing twice.
 */
export function honoursThenGivesUp(stack: TestStack): { fault: StepFault; attempts: () => number } {
  const real = realActivities(stack);
  let attempts = 0;
  const fault = async (input: HonourAndConfirmInput) => {
    attempts++;
    const honoured = await real.honourOptOut(input.optOut);
    await real.send({ ...input.confirmation, categories: honoured.categories });
    throw ApplicationFailure.create({ type: 'StoreUnavailable', message: 'the worker lost the store after the confirmation', nonRetryable: true });
  };
  return { fault, attempts: () => attempts };
}
