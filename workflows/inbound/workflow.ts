import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { getExternalWorkflowHandle, ParentClosePolicy, patched, proxyActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import { contactAnsweredSignal, journeyWorkflowId } from '../journey/contract';
import { DEFAULT_CATEGORY_CHOICE_WAIT_MS } from '../inthread/contract';
import { categoryChoiceWorkflow } from '../inthread/workflow';
import { journeySearchAttributes } from '../search-attributes';
import { answerOf, type InboundMessageInput } from './contract';
import { proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';

const store = proxyStoreSteps<OptOutActivities>();
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

/** Inbound workflows that ran before START could open a category choice replay without it. */
const CATEGORY_CHOICE_PATCH = 'inbound-start-asks-categories';

/** Hands the message to the contact's running journey (or category choice); false when none runs. */
async function answerRunningJourney(input: InboundMessageInput): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(journeyWorkflowId(input.businessId, input.contactId)).signal(contactAnsweredSignal, answerOf(input));
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the in-thread category question as the contact's journey. Abandoned by this workflow when it
 * ends; a journey that started in between wins, and gets the START as its answer instead.
 */
async function askCategories(input: InboundMessageInput, resumedMessaging: boolean): Promise<'category_choice' | 'journey' | 'no_running_journey'> {
  try {
    await startChild(categoryChoiceWorkflow, {
      workflowId: journeyWorkflowId(input.businessId, input.contactId),
      args: [
        {
          businessId: input.businessId,
          contactId: input.contactId,
          phone: input.phone,
          channel: input.channel,
          start: { messageSid: input.messageSid, text: input.text, receivedAt: input.receivedAt, payload: input.payload },
          waitForMs: DEFAULT_CATEGORY_CHOICE_WAIT_MS,
          resumedMessaging,
          requestedAt: input.receivedAt,
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: journeySearchAttributes({ businessId: input.businessId, contactId: input.contactId, channel: input.channel }),
    });
    return 'category_choice';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return (await answerRunningJourney(input)) ? 'journey' : 'no_running_journey';
  }
}

/**
 * Every inbound message that is not an opt-out: handed to the contact's running journey, then recorded.
 * An opt-in keyword with nothing running asks which categories (./inthread). Keyed by MessageSid, so a
 * repeated webhook delivery starts nothing new.
 */
export async function inboundMessageWorkflow(input: InboundMessageInput): Promise<{ routedTo: string }> {
  // An opted-out contact has no running journey to answer; their START lifts the block instead.
  if (input.intent === 'opt_in') {
    const resumed = await store().resumeMessaging(input);
    if (resumed.resumed) {
      await store().recordInbound({ ...input, routedTo: 'resumed_messaging' });
      const r = await send({
        idempotencyKey: `inbound.${input.messageSid}/resumed`,
        purpose: 'resume_confirmation',
        channel: input.channel,
        businessId: input.businessId,
        contactId: input.contactId,
        phone: input.phone,
        categories: resumed.categories,
      });
      // Nothing to restore: the contact is allowed messages again but subscribed to nothing, so ask.
      if (resumed.categories.length === 0 && patched(CATEGORY_CHOICE_PATCH)) {
        return { routedTo: `resumed_messaging:${r.outcome}:${await askCategories(input, true)}` };
      }
      return { routedTo: `resumed_messaging:${r.outcome}` };
    }
  }
  let routedTo = 'none';
  if (input.intent !== 'help') {
    routedTo = (await answerRunningJourney(input)) ? 'journey' : 'no_running_journey';
    if (routedTo === 'no_running_journey' && input.intent === 'opt_in' && patched(CATEGORY_CHOICE_PATCH)) {
      routedTo = await askCategories(input, false);
    }
  }
  await store().recordInbound({ ...input, routedTo });
  if (input.intent === 'help') {
    const r = await send({ idempotencyKey: `inbound.${input.messageSid}/help`, purpose: 'help', channel: input.channel, businessId: input.businessId, contactId: input.contactId, phone: input.phone, categories: [] });
    routedTo = `help:${r.outcome}`;
  }
  return { routedTo };
}
