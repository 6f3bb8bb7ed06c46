import type { InboundIntent } from '../../domain/keywords';

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

export function inboundWorkflowId(messageSid: string): string {
  return `inbound.${messageSid}`;
}
