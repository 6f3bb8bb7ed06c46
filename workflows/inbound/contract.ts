import type { InboundIntent } from '../../domain/keywords';
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
