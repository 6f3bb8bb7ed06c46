import { createHash } from 'node:crypto';
import type { KeyActor } from '../domain/access';
import type { Business } from '../domain/business';
import { isBlocked } from '../store/blocks';
import { contactIdOf } from '../store/models';
import { consentOverview } from '../store/queries';
import { directConsentWorkflowId, type DirectConsentInput } from '../workflows/direct/contract';
import { requireKnownBusiness, requireKnownCategories } from './businesses';
import type { ServiceDeps } from './deps';
import { runStatus } from './temporal';
import { startDirectConsentWorkflow } from './workflow-starts';

/** One contact's consent per category of the business, and every ledger event with its proof. */
export async function contactConsents(deps: ServiceDeps, businessId: string, phone: string) {
  const business = requireKnownBusiness(deps.businesses, businessId, 'query');
  const contactId = contactIdOf(business.id, phone);
  const { contact, consents, events } = await consentOverview(deps.store, business.id, contactId);
  const byCategory = new Map(consents.map((c) => [c.category, c]));
  return {
    businessId: business.id,
    businessName: business.name,
    phone,
    contactId,
    known: !!contact,
    messaging: (await isBlocked(deps.store, contactId, contact)) ? 'opted_out' : 'allowed',
    categories: business.categories.map((cat) => {
      const c = byCategory.get(cat.id);
      return { category: cat.id, label: cat.label, status: c?.status ?? 'none', since: c?.since, eventId: c?.lastEventId, journeyId: c?.journeyId, confirmationMessageId: c?.confirmationMessageId };
    }),
    events: events.map((e) => ({ eventId: e._id, category: e.category, type: e.type, at: e.at, actor: e.actor, proof: e.proof })),
  };
}

/** One document is one consent: the workflow id is keyed by it, so posting it again records nothing new. */
export function offlineOrigin(businessId: string, documentRef: string): string {
  return `offline.${createHash('sha256').update(`${businessId}\n${documentRef}`).digest('hex').slice(0, 32)}`;
}

export interface OfflineConsent {
  businessId: string;
  phone: string;
  categories: string[];
  evidence: { documentRef: string; signedAt: string; collectedBy: string };
  /** The key that recorded it. */
  actor?: KeyActor;
}

/** A consent the contact signed on paper: recorded with the document as proof, then confirmed on WhatsApp. */
export async function recordOfflineConsent(deps: ServiceDeps, c: OfflineConsent): Promise<{ directConsentId: string; started: boolean }> {
  const business = requireKnownBusiness(deps.businesses, c.businessId);
  requireKnownCategories(business, c.categories);
  const origin = offlineOrigin(business.id, c.evidence.documentRef);
  const input: DirectConsentInput = {
    origin,
    businessId: business.id,
    contactId: contactIdOf(business.id, c.phone),
    phone: c.phone,
    categories: c.categories,
    method: 'offline_document',
    channel: 'in_person',
    consentedAt: new Date(c.evidence.signedAt).toISOString(),
    receivedAt: new Date().toISOString(),
    evidence: { ...c.evidence },
    source: { kind: 'offline', reference: c.evidence.documentRef },
    ...(c.actor ? { actor: c.actor } : {}),
  };
  const { started } = await startDirectConsentWorkflow(deps, input);
  return { directConsentId: directConsentWorkflowId(origin), started };
}

export interface IvrMenuConsent {
  business: Business;
  callSid: string;
  phone: string;
  categories: string[];
  /** The words the caller heard, and the call's own record (TwiML served, digits, raw webhook). */
  shown: string;
  evidence: Record<string, unknown>;
}

/** The caller pressed 1 in the business's own IVR menu: their consent, witnessed; keyed by the call. */
export async function recordIvrMenuConsent(deps: ServiceDeps, c: IvrMenuConsent): Promise<void> {
  const receivedAt = new Date().toISOString();
  await startDirectConsentWorkflow(deps, {
    origin: `ivr.${c.callSid}`,
    businessId: c.business.id,
    contactId: contactIdOf(c.business.id, c.phone),
    phone: c.phone,
    categories: c.categories,
    method: 'ivr_keypress',
    channel: 'ivr',
    consentedAt: receivedAt,
    receivedAt,
    shown: c.shown,
    evidence: c.evidence,
    source: { kind: 'inbound_ivr', reference: c.callSid },
  });
}

/** Whether the caller consented during this call (the call's direct consent exists). */
export async function consentedDuringCall(deps: ServiceDeps, callSid: string): Promise<boolean> {
  return (await runStatus(deps.client.workflow.getHandle(directConsentWorkflowId(`ivr.${callSid}`)))) !== undefined;
}
