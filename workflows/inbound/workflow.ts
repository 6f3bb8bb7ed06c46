import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { OptOutActivities } from '../../activities/optout';
import { contactAnsweredSignal, journeyWorkflowId, type AnswerDecision } from '../journey/contract';
import type { InboundMessageInput } from './contract';
import { SEND_ACTIVITY_OPTIONS, STORE_ACTIVITY_OPTIONS } from '../activity-options';

const store = proxyActivities<OptOutActivities>(STORE_ACTIVITY_OPTIONS);
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

function decisionOf(intent: InboundMessageInput['intent']): AnswerDecision {
  if (intent === 'yes' || intent === 'opt_in') return 'confirm';
  if (intent === 'no') return 'decline';
  if (intent === 'opt_out') return 'opt_out';
  return 'other';
}

/**
 * Every inbound message that is not an opt-out: handed to the contact's running journey, then recorded.
 * Keyed by MessageSid, so a repeated webhook delivery starts nothing new.
 */
export async function inboundMessageWorkflow(input: InboundMessageInput): Promise<{ routedTo: string }> {
  // An opted-out contact has no running journey to answer; their START lifts the block instead.
  if (input.intent === 'opt_in') {
    const resumed = await store.resumeMessaging(input);
    if (resumed.resumed) {
      await store.recordInbound({ ...input, routedTo: 'resumed_messaging' });
      const r = await send({
        idempotencyKey: `inbound.${input.messageSid}/resumed`,
        purpose: 'resume_confirmation',
        channel: input.channel,
        businessId: input.businessId,
        contactId: input.contactId,
        phone: input.phone,
        categories: resumed.categories,
      });
      return { routedTo: `resumed_messaging:${r.outcome}` };
    }
  }
  let routedTo = 'none';
  if (input.intent !== 'help') {
    try {
      await getExternalWorkflowHandle(journeyWorkflowId(input.businessId, input.contactId)).signal(contactAnsweredSignal, {
        decision: decisionOf(input.intent),
        channel: input.channel,
        method: input.buttonPayload ? 'whatsapp_button' : input.channel === 'whatsapp' ? 'whatsapp_reply' : 'sms_reply',
        receivedAt: input.receivedAt,
        text: input.text,
        providerId: input.messageSid,
        payload: input.payload,
      });
      routedTo = 'journey';
    } catch {
      routedTo = 'no_running_journey';
    }
  }
  await store.recordInbound({ ...input, routedTo });
  if (input.intent === 'help') {
    const r = await send({ idempotencyKey: `inbound.${input.messageSid}/help`, purpose: 'help', channel: input.channel, businessId: input.businessId, contactId: input.contactId, phone: input.phone, categories: [] });
    routedTo = `help:${r.outcome}`;
  }
  return { routedTo };
}
