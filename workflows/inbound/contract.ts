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
  payload: Record<string, unknown>;
}

export const INBOUND_WORKFLOW_TYPE = 'inboundMessageWorkflow';
export const inboundWorkflowRef = defineWorkflowRef<InboundMessageInput, { routedTo: string }>(INBOUND_WORKFLOW_TYPE);

export function inboundWorkflowId(messageSid: string): string {
  return `inbound.${messageSid}`;
}
