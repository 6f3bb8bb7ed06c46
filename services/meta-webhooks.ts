import { contactActor } from '../domain/access';
import { marketingCategories, type Business } from '../domain/business';
import { appendConsentEvent, consentEvent, upsertContact } from '../store/queries';
import { contactIdOf } from '../store/models';
import { keepNumberEvent, numberEventId } from '../store/whatsapp-numbers';
import type { ServiceDeps, ServiceLog } from './deps';
import { readQualityRating, type MetaGraphAccess } from './meta-graph';
import { receiveMessage, receiveMessageStatus } from './messaging';
import { requestOptOut, type OptOutOutcome } from './optouts';

/**
 * What Meta's WhatsApp webhooks tell us, one event at a time, already parsed. Each is handled so that
 * it is durable before the webhook is answered (Meta delivers again until it gets a 200) and a
 * redelivery changes nothing: messages and statuses are keyed by wamid, preferences and number
 * events by what Meta sent.
 */
export type MetaEvent =
  | { kind: 'message'; business: Business; messageId: string; phone: string; text?: string; buttonPayload?: string; buttonText?: string; payload: Record<string, unknown> }
  | { kind: 'status'; business: Business; messageId: string; status: string; errorCode?: number; phone?: string; callback: MetaStatusCallback; payload: Record<string, unknown> }
  | { kind: 'preference'; business: Business; phone: string; category: string; value: string; at: string; payload: Record<string, unknown> }
  | { kind: 'number'; business: Business; field: 'phone_number_quality_update' | 'account_update'; event: string; currentLimit?: string; payload: Record<string, unknown> };

/** What our send put in `biz_opaque_callback_data`: the journey run and the outbox row of the message. */
export interface MetaStatusCallback {
  workflowId?: string;
  runId?: string;
  contactId?: string;
  outboxKey?: string;
}

/** WhatsApp refused a marketing template because the contact stopped marketing messages from the business. */
export const MARKETING_STOPPED_CODE = 131050;

export interface MetaEventOutcome {
  kind: MetaEvent['kind'];
  optOut?: OptOutOutcome;
  recorded?: boolean;
}

/** `graph` reads the number's quality rating when Meta says it changed; without it the rating is not tracked. */
export async function receiveMetaEvents(deps: ServiceDeps, events: MetaEvent[], log: ServiceLog, graph?: MetaGraphAccess): Promise<MetaEventOutcome[]> {
  const outcomes: MetaEventOutcome[] = [];
  // One after another: a contact's messages keep their order, and the answer waits for every one.
  for (const e of events) outcomes.push(await receiveOne(deps, e, log, graph));
  return outcomes;
}

async function receiveOne(deps: ServiceDeps, e: MetaEvent, log: ServiceLog, graph: MetaGraphAccess | undefined): Promise<MetaEventOutcome> {
  switch (e.kind) {
    case 'message': {
      const r = await receiveMessage(deps, { business: e.business, messageSid: e.messageId, phone: e.phone, channel: 'whatsapp', body: e.text, buttonPayload: e.buttonPayload, buttonText: e.buttonText, payload: e.payload }, log);
      return { kind: e.kind, optOut: r.optOut };
    }
    case 'status':
      return { kind: e.kind, optOut: await receiveStatus(deps, e) };
    case 'preference':
      return receivePreference(deps, e, log);
    case 'number': {
      // Read before keeping the event: if the Graph API does not answer, nothing is kept and Meta delivers again.
      const quality = graph && e.field === 'phone_number_quality_update' ? await readQualityRating(graph, e.business) : undefined;
      const recorded = await keepNumberEvent(deps.store, numberEventId(e.business.id, e.field, e.payload), {
        businessId: e.business.id,
        phoneNumberId: e.business.whatsapp.provider === 'meta' ? e.business.whatsapp.phoneNumberId : undefined,
        field: e.field,
        event: e.event,
        currentLimit: e.currentLimit,
        quality,
        payload: e.payload,
        receivedAt: new Date(),
      });
      if (recorded) log.info({ businessId: e.business.id, field: e.field, event: e.event, currentLimit: e.currentLimit, quality }, 'WhatsApp reported a change of the business number');
      return { kind: e.kind, recorded };
    }
  }
}

async function receiveStatus(deps: ServiceDeps, e: Extract<MetaEvent, { kind: 'status' }>): Promise<OptOutOutcome | undefined> {
  const contactId = e.callback.contactId ?? (e.phone ? contactIdOf(e.business.id, e.phone) : undefined);
  await receiveMessageStatus(deps, {
    workflowId: e.callback.workflowId,
    runId: e.callback.runId,
    business: e.business,
    contactId,
    outboxKey: e.callback.outboxKey,
    providerId: e.messageId,
    status: e.status,
    errorCode: e.errorCode,
    to: e.phone,
    payload: e.payload,
  });
  if (e.status !== 'failed' || e.errorCode !== MARKETING_STOPPED_CODE || !e.phone || !contactId) return undefined;
  return stopMarketing(deps, e.business, {
    origin: `provider.${MARKETING_STOPPED_CODE}.${e.messageId}`,
    contactId,
    phone: e.phone,
    reason: `WhatsApp refused a marketing message: the contact stopped marketing messages from the business (error ${MARKETING_STOPPED_CODE})`,
    reference: e.messageId,
    payload: e.payload,
  });
}

/** Ends consent for the business's marketing categories only; utility categories stay as they are. */
function stopMarketing(deps: ServiceDeps, business: Business, s: { origin: string; contactId: string; phone: string; reason: string; reference: string; payload: Record<string, unknown> }): Promise<OptOutOutcome> {
  return requestOptOut(deps, {
    origin: s.origin,
    businessId: business.id,
    contactId: s.contactId,
    phone: s.phone,
    // Not `whatsapp`: nothing was written to us, so no service window opens, and WhatsApp confirms to the contact itself.
    channel: 'provider',
    categories: marketingCategories(business),
    reason: s.reason,
    source: { kind: 'provider', reference: s.reference },
    receivedAt: new Date().toISOString(),
    payload: s.payload,
  });
}

/**
 * The contact stopped or resumed marketing messages inside WhatsApp. A stop ends the marketing
 * categories; a resume is kept in the ledger as what it is, and opts in to nothing: consent is asked
 * for and given per category, never restored by a switch in WhatsApp.
 */
async function receivePreference(deps: ServiceDeps, e: Extract<MetaEvent, { kind: 'preference' }>, log: ServiceLog): Promise<MetaEventOutcome> {
  const contactId = contactIdOf(e.business.id, e.phone);
  const origin = `meta.preferences.${e.business.id}.${contactId}.${e.category}.${e.value}.${Date.parse(e.at)}`;
  if (e.category !== 'marketing_messages' || (e.value !== 'stop' && e.value !== 'resume')) {
    log.warn({ businessId: e.business.id, category: e.category, value: e.value }, 'a WhatsApp preference we do not act on');
    return { kind: e.kind, recorded: false };
  }
  if (e.value === 'stop') {
    const optOut = await stopMarketing(deps, e.business, { origin, contactId, phone: e.phone, reason: 'the contact stopped marketing messages from the business in WhatsApp', reference: 'user_preferences', payload: e.payload });
    return { kind: e.kind, optOut };
  }
  await upsertContact(deps.store, { businessId: e.business.id, contactId, phone: e.phone });
  const written = await appendConsentEvent(
    deps.store,
    consentEvent({ businessId: e.business.id, contactId, phone: e.phone }, `${origin}:*:marketing_resumed`, '*', 'marketing_resumed', new Date(e.at), {
      method: 'provider',
      channel: 'provider',
      reason: 'the contact resumed marketing messages from the business in WhatsApp; no category is opted in by this',
      reference: 'user_preferences',
      businessName: e.business.name,
      receivedAt: e.at,
      recordedAt: new Date().toISOString(),
      inbound: e.payload,
    }, contactActor('whatsapp')),
  );
  return { kind: e.kind, recorded: written === 'written' };
}
