import type { Business } from '../domain/business';
import { classifyButtonPayload, classifyInbound } from '../domain/keywords';
import { CARRIER_UNSUBSCRIBED_CODES } from '../domain/provider-codes';
import { contactIdOf } from '../store/models';
import { inboundWorkflowId, type InboundMessageInput } from '../workflows/inbound/contract';
import { providerStatusSignal } from '../workflows/journey/contract';
import type { ServiceDeps } from './deps';
import { requestOptOut, type OptOutOutcome } from './optouts';
import { inboundPayload } from './payloads';
import { signalIfRunning } from './temporal';
import { startInboundWorkflow } from './workflow-starts';

/** Twilio message statuses on the way to a final one (delivered, read, undelivered, failed). */
export const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set(['accepted', 'scheduled', 'queued', 'sending', 'sent']);

export interface InboundMessage {
  business: Business;
  messageSid: string;
  /** The contact's number, E.164. */
  phone: string;
  channel: 'sms' | 'whatsapp';
  body?: string;
  buttonPayload?: string;
  buttonText?: string;
  /** The provider's whole webhook, kept as proof. */
  payload: Record<string, unknown>;
}

/**
 * A message from a contact. An opt-out (keyword or STOP button) is requested at once and blocks the
 * contact before this returns; anything else goes to the message's own workflow (keyed by MessageSid)
 * which hands it to the contact's journey. Returns once the event is durable.
 */
export async function receiveMessage(deps: ServiceDeps, m: InboundMessage): Promise<{ optOut?: OptOutOutcome }> {
  const contactId = contactIdOf(m.business.id, m.phone);
  const classification = m.buttonPayload ? { intent: classifyButtonPayload(m.buttonPayload) } : classifyInbound(m.body ?? '', m.business.keywords);
  const receivedAt = new Date().toISOString();
  if (classification.intent === 'opt_out') {
    const optOut = await requestOptOut(deps, {
      origin: `${m.channel}.${m.messageSid}`,
      businessId: m.business.id,
      contactId,
      phone: m.phone,
      channel: m.channel,
      reason: m.buttonPayload ? 'stop button' : 'opt-out keyword',
      source: { kind: m.buttonPayload ? 'whatsapp_button' : 'keyword', reference: m.messageSid },
      receivedAt,
      text: m.body ?? m.buttonText,
      payload: m.payload,
      confirmOn: m.channel,
    });
    return { optOut };
  }
  const input: InboundMessageInput = {
    messageSid: m.messageSid,
    businessId: m.business.id,
    contactId,
    phone: m.phone,
    channel: m.channel,
    text: m.body,
    buttonPayload: m.buttonPayload,
    intent: classification.intent,
    receivedAt,
    ...(await inboundPayload(deps, inboundWorkflowId(m.messageSid), m.payload)),
  };
  await startInboundWorkflow(deps, input);
  return {};
}

export interface MessageStatus {
  /** The journey run the message belongs to, from the callback URL we gave the provider. */
  workflowId?: string;
  runId?: string;
  business?: Business;
  contactId?: string;
  providerId: string;
  status: string;
  errorCode?: number;
  /** The recipient, E.164, when the provider said. */
  to?: string;
  payload: Record<string, unknown>;
}

/**
 * A delivery status. Only final ones reach the journey (a message in progress changes nothing there,
 * and every signal is a workflow task); the carrier's "recipient unsubscribed" is an opt-out.
 */
export async function receiveMessageStatus(deps: ServiceDeps, s: MessageStatus): Promise<{ optOut?: OptOutOutcome }> {
  const receivedAt = new Date().toISOString();
  if (s.workflowId && !IN_PROGRESS_STATUSES.has(s.status)) {
    await signalIfRunning(deps.client, s.workflowId, s.runId, providerStatusSignal, { providerId: s.providerId, status: s.status, errorCode: s.errorCode, receivedAt });
  }
  if (s.errorCode === undefined || !CARRIER_UNSUBSCRIBED_CODES.has(s.errorCode) || !s.business || !s.contactId || !s.to) return {};
  const optOut = await requestOptOut(deps, {
    origin: `provider.${s.providerId}`,
    businessId: s.business.id,
    contactId: s.contactId,
    phone: s.to,
    channel: 'provider',
    reason: `carrier reports the recipient unsubscribed (error ${s.errorCode})`,
    source: { kind: 'provider', reference: s.providerId },
    receivedAt,
    payload: s.payload,
  });
  return { optOut };
}
