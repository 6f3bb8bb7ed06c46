import type { Business } from '../domain/business';
import { classifyButtonPayload, classifyInbound } from '../domain/keywords';
import { normalizePhone } from '../domain/phone';
import { CARRIER_UNSUBSCRIBED_CODES } from '../domain/provider-codes';
import { readContactAndBlock } from '../store/blocks';
import { recordInboundMessage } from '../store/inbound';
import { readHeadAhead } from '../store/ledger-heads';
import { contactIdOf } from '../store/models';
import { optOutWorkflowId, type OptOutInput } from '../workflows/optout/contract';
import { noteProviderReport } from '../store/outbox';
import { inboundWorkflowId, type InboundMessageInput } from '../workflows/inbound/contract';
import type { ServiceDeps, ServiceLog } from './deps';
import { OPTOUT_BLOCK_WAIT_MS, requestOptOut, type OptOutOutcome } from './optouts';
import { firstDelivery } from './optout-steps';
import { inboundPayload } from './payloads';
import { answerJourneyDirectly, deliverInboundMessage, signalJourney } from './journey-events';
import { keepDeliveryReport } from '../store/delivery-reports';
import { FAILED_DELIVERY_STATUSES } from '../workflows/journey/contract';

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
 * contact before this returns; a reply to a running journey goes straight to it; anything else (START,
 * HELP, no journey running) goes to the message's own workflow, keyed by MessageSid. Returns once the
 * event is durable.
 */
export async function receiveMessage(deps: ServiceDeps, m: InboundMessage, log: ServiceLog): Promise<{ optOut?: OptOutOutcome }> {
  const contactId = contactIdOf(m.business.id, m.phone);
  const classification = m.buttonPayload ? { intent: classifyButtonPayload(m.buttonPayload) } : classifyInbound(m.body ?? '', m.business.keywords);
  const receivedAt = new Date().toISOString();
  if (classification.intent === 'opt_out') {
    const request: OptOutInput = {
      origin: `${m.channel}.${m.messageSid}`,
      businessId: m.business.id,
      contactId,
      phone: m.phone,
      channel: m.channel,
      reason: m.buttonPayload ? 'stop button' : 'opt-out keyword',
      source: { kind: m.buttonPayload ? 'whatsapp_button' : 'keyword', reference: m.messageSid },
      receivedAt,
      text: m.body ?? m.buttonText,
      keyword: 'matched' in classification ? { matched: classification.matched, language: classification.language } : undefined,
      payload: m.payload,
      confirmOn: m.channel,
    };
    const optOutId = optOutWorkflowId(request.origin);
    // Whether an earlier delivery of this STOP is in the ledger, asked beside the block read: one round trip before the answer instead of two.
    const first = firstDelivery(deps, { ...request, optOutId }, Date.now() + OPTOUT_BLOCK_WAIT_MS);
    // And the contact's ledger head: the opt-out's append before the answer then starts without a read of its own.
    void readHeadAhead(deps.store, contactId);
    const read = await blockStanding(deps, contactId);
    if (read.standing === 'blocked') {
      // A STOP from someone already opted out changes nothing: kept as an inbound message, no second opt-out or confirmation.
      const input: InboundMessageInput = { messageSid: m.messageSid, businessId: m.business.id, contactId, phone: m.phone, channel: m.channel, text: m.body ?? m.buttonText, buttonPayload: m.buttonPayload, intent: 'opt_out', receivedAt, ...(await inboundPayload(deps, inboundWorkflowId(m.messageSid), m.payload)) };
      await recordInboundMessage(deps.store, input, 'already_opted_out');
      return { optOut: { optOutId, started: false, progress: 'already_done' } };
    }
    const optOut = await requestOptOut(deps, request, undefined, { unblockedJustNow: read.standing === 'unblocked', firstDelivery: first, ...(read.standing === 'unknown' ? {} : { currentJourneyId: read.currentJourneyId }) });
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
  if (!(await answerJourneyDirectly(deps, input, log))) await deliverInboundMessage(deps, input);
  return {};
}

/** How long a STOP waits to learn whether the contact opted out already; the opt-out itself needs the rest of the webhook's time. */
const ALREADY_OPTED_OUT_WAIT_MS = 1_000;

/**
 * Whether the contact is blocked already. 'unknown' when the store did not answer at once: the
 * opt-out then takes its durable path, and the block reads for itself.
 */
type Standing = { standing: 'blocked' | 'unblocked'; currentJourneyId: string | null } | { standing: 'unknown' };

async function blockStanding(deps: ServiceDeps, contactId: string): Promise<Standing> {
  let timer: NodeJS.Timeout | undefined;
  const read = readContactAndBlock(deps.store, contactId).then(
    ({ contact, blocked }): Standing => ({ standing: blocked ? 'blocked' : 'unblocked', currentJourneyId: contact?.currentJourneyId ?? null }),
    (): Standing => ({ standing: 'unknown' }),
  );
  const late = new Promise<Standing>((resolve) => (timer = setTimeout(() => resolve({ standing: 'unknown' }), ALREADY_OPTED_OUT_WAIT_MS)));
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MessageStatus {
  /** The journey run the message belongs to, from the callback URL we gave the provider. */
  workflowId?: string;
  runId?: string;
  business?: Business;
  contactId?: string;
  /** The outbox row of the send, from the callback URL: a report settles a send whose outcome we did not hear. */
  outboxKey?: string;
  providerId: string;
  status: string;
  errorCode?: number;
  /** The recipient as the provider gave it; normalized only for the carrier's "unsubscribed" error codes, the one case that reads it. */
  to?: string;
  payload: Record<string, unknown>;
}

/**
 * A delivery status. Only failures reach the journey (the only reports it acts on; every signal is a
 * workflow task and a billed action); every final one (delivered, read, failed) is kept in the store
 * for the audit trail, ones in progress are dropped. The carrier's "recipient unsubscribed" is an opt-out.
 */
export async function receiveMessageStatus(deps: ServiceDeps, s: MessageStatus): Promise<{ optOut?: OptOutOutcome }> {
  const receivedAt = new Date().toISOString();
  if (!IN_PROGRESS_STATUSES.has(s.status)) {
    const failed = FAILED_DELIVERY_STATUSES.has(s.status);
    const keeping = keepDeliveryReport(deps.store, { providerId: s.providerId, status: s.status, outboxKey: s.outboxKey, workflowId: s.workflowId, errorCode: s.errorCode, at: new Date(receivedAt) });
    // Best effort, after the report is kept: an ambiguous row is settled at once; a row still claimed
    // (the callback beat the send's own answer) is settled by the send's retry, which finds the report.
    const noted = keeping.then(() => (s.outboxKey ? noteProviderReport(deps.store, s.outboxKey, s.providerId) : undefined)).catch(() => undefined);
    if (s.workflowId && failed) {
      // A failure reaches the journey even when the store cannot keep its report.
      await Promise.all([
        signalJourney(deps, `status.${s.providerId}.${s.status}`, { workflowId: s.workflowId, runId: s.runId }, 'providerStatus', { providerId: s.providerId, status: s.status, errorCode: s.errorCode, receivedAt }),
        keeping.catch(() => undefined),
      ]);
    } else {
      await keeping;
    }
    await noted;
  }
  if (s.errorCode === undefined || !CARRIER_UNSUBSCRIBED_CODES.has(s.errorCode) || !s.business || !s.contactId || !s.to) return {};
  const to = normalizePhone(s.to);
  if (!to.ok) return {};
  const optOut = await requestOptOut(deps, {
    origin: `provider.${s.providerId}`,
    businessId: s.business.id,
    contactId: s.contactId,
    phone: to.e164,
    channel: 'provider',
    reason: `carrier reports the recipient unsubscribed (error ${s.errorCode})`,
    source: { kind: 'provider', reference: s.providerId },
    receivedAt,
    payload: s.payload,
  });
  return { optOut };
}
