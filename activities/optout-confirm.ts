import { getClient } from '@temporalio/activity';
import { signalJourneyOptedOut } from '../services/journey-ending';
import type { ContactBlocked, OptOutInput } from '../workflows/optout/contract';
import type { ChannelActivities, SendInput, SendResult } from './channel';
import type { OptOutActivities } from './optout';

export interface HonourAndConfirmInput {
  optOut: OptOutInput & { optOutId: string };
  /** The opt-out confirmation; its categories become the ones the opt-out covers. */
  confirmation: Omit<SendInput, 'categories'>;
  /** Tell the contact's journey to end first (optOutWorkflowV5 and V6); optOutWorkflowV4 signals it from the workflow. */
  endJourney?: boolean;
  /**
   * What the acknowledgement did before handing the step to the contact's journey: the contact
   * blocked, the ledger written and the journey's record closed, all confirmed by the store. The step
   * then only confirms, without reading them back (services/optout-carry.ts).
   */
  honoured?: ContactBlocked;
}

export interface HonourAndConfirmResult {
  honoured: ContactBlocked;
  confirmation: SendResult;
  /** Whether a journey was running to be told (only when asked to tell it). */
  journeyEnded?: boolean;
}

type Steps = Pick<OptOutActivities, 'honourOptOut'> & Pick<ChannelActivities, 'send'>;

/**
 * An opt-out's steps in one activity: the journey's end (the acknowledgement has usually told it
 * already, and the server takes the same signal once), the block and the ledger events (which the
 * acknowledgement has usually written, so this mostly reads), then the one confirmation, which waits
 * for any send still at the provider itself. optOutWorkflowV6 runs it as a local activity in its one
 * workflow task, optOutWorkflowV5 as an activity; the journey's end comes first in either, so it never
 * waits for the store.
 */
export function createHonourAndConfirmActivity(steps: Steps) {
  async function honourAndConfirm(input: HonourAndConfirmInput): Promise<HonourAndConfirmResult> {
    const { optOut } = input;
    const journeyEnded = input.endJourney ? await signalJourneyOptedOut(getClient(), { businessId: optOut.businessId, contactId: optOut.contactId, optOutId: optOut.optOutId, at: optOut.receivedAt }) : undefined;
    const honoured = input.honoured ?? (await steps.honourOptOut(optOut, { confirmationFollows: true }));
    // The acknowledgement's block found no send of the contact's at the provider (services/optouts.ts appliedHere).
    const confirmation = await steps.send({ ...input.confirmation, categories: honoured.categories, ...(input.honoured?.blocked ? { noSendsAtProvider: true } : {}) });
    return { honoured, confirmation, ...(journeyEnded === undefined ? {} : { journeyEnded }) };
  }
  return { honourAndConfirm };
}

export type HonourAndConfirmActivities = ReturnType<typeof createHonourAndConfirmActivity>;
