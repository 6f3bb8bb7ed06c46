import type { InboundIntent } from '../../domain/keywords';
import type { AnswerDecision, ContactAnswer } from '../journey/contract';
import { defineWorkflowRef } from '../workflow-ref';

export interface InboundMessageInput {
  messageSid: string;
  businessId: string;
  contactId: string;
  phone: string;
  channel: 'sms' | 'whatsapp';
  text?: string;
  buttonPayload?: string;
  intent: InboundIntent;
  receivedAt: string;
  /** The provider's webhook, bounded and with storable field names; runs started before inputs were bounded carry it raw. */
  payload: Record<string, unknown>;
  /** The stored whole of a payload that had to be cut (store/payloads.ts); recordInbound reads it from there. */
  payloadRef?: string;
}

export const INBOUND_WORKFLOW_TYPE = 'inboundMessageWorkflow';
export const inboundWorkflowRef = defineWorkflowRef<InboundMessageInput, { routedTo: string }>(INBOUND_WORKFLOW_TYPE);

export function inboundWorkflowId(messageSid: string): string {
  return `inbound.${messageSid}`;
}

function decisionOf(intent: InboundIntent): AnswerDecision {
  if (intent === 'yes' || intent === 'opt_in') return 'confirm';
  if (intent === 'no') return 'decline';
  if (intent === 'opt_out') return 'opt_out';
  return 'other';
}

/** The message as an answer to the contact's journey; the API (a reply straight to a running journey) and the inbound workflow build it alike. */
export function answerOf(input: InboundMessageInput): ContactAnswer {
  return {
    decision: decisionOf(input.intent),
    channel: input.channel,
    method: input.buttonPayload ? 'whatsapp_button' : input.channel === 'whatsapp' ? 'whatsapp_reply' : 'sms_reply',
    receivedAt: input.receivedAt,
    text: input.text,
    providerId: input.messageSid,
    payload: input.payload,
  };
}
