import type { ContactBlocked, OptOutInput } from '../workflows/optout/contract';
import type { ChannelActivities, SendInput, SendResult } from './channel';
import type { OptOutActivities } from './optout';

export interface HonourAndConfirmInput {
  optOut: OptOutInput & { optOutId: string };
  /** The opt-out confirmation; its categories become the ones the opt-out covers. */
  confirmation: Omit<SendInput, 'categories'>;
}

export interface HonourAndConfirmResult {
  honoured: ContactBlocked;
  confirmation: SendResult;
}

type Steps = Pick<OptOutActivities, 'honourOptOut'> & Pick<ChannelActivities, 'send'>;

/**
 * An opt-out's store step and its confirmation in one activity (optOutWorkflowV4): the block and the
 * ledger events (which the acknowledgement has usually written, so this mostly reads), then the one
 * confirmation, which waits for any send still at the provider itself. As a local activity before the
 * send, the store step held the workflow task open, and the journey's end waited for it.
 */
export function createHonourAndConfirmActivity(steps: Steps) {
  async function honourAndConfirm(input: HonourAndConfirmInput): Promise<HonourAndConfirmResult> {
    const honoured = await steps.honourOptOut(input.optOut);
    const confirmation = await steps.send({ ...input.confirmation, categories: honoured.categories });
    return { honoured, confirmation };
  }
  return { honourAndConfirm };
}

export type HonourAndConfirmActivities = ReturnType<typeof createHonourAndConfirmActivity>;
