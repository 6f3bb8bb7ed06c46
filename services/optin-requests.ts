import type { KeyActor } from '../domain/access';
import { askOncePlan } from '../domain/plan';
import { inServiceWindow } from '../domain/whatsapp-window';
import { contactIdOf } from '../store/models';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';
import { ContactOptedOutError, ServiceError, WhatsappTierUsedUpError } from './errors';
import { startJourney, type StartedJourney } from './journeys';

/** The contact has not written on WhatsApp in the last 24 hours: only a template journey may ask. */
export class OutsideServiceWindowError extends ServiceError {
  constructor(lastWhatsappInboundAt: Date | undefined) {
    super(
      'conflict',
      'outside_service_window',
      'cannot ask in the chat: the contact has not written on WhatsApp in the last 24 hours; start a template journey with POST /v1/journeys instead',
      lastWhatsappInboundAt ? { lastWhatsappInboundAt: lastWhatsappInboundAt.toISOString() } : undefined,
    );
  }
}

export interface AgentOptIn {
  businessId: string;
  agentId: string;
  ticketId: string;
  phone: string;
  categories: string[];
  /** The key the agent's tool called with. */
  actor?: KeyActor;
}

/**
 * After resolving a ticket in WhatsApp, the agent asks in the same chat. Only a session message may
 * do that, so the contact must have written in the last 24 hours.
 */
export async function askInChat(deps: ServiceDeps, a: AgentOptIn): Promise<StartedJourney> {
  const business = requireKnownBusiness(deps.businesses, a.businessId);
  const contact = await deps.store.contacts.findById(contactIdOf(business.id, a.phone)).lean();
  if (!contact?.lastWhatsappInboundAt || !inServiceWindow(contact.lastWhatsappInboundAt)) {
    throw new OutsideServiceWindowError(contact?.lastWhatsappInboundAt ? new Date(contact.lastWhatsappInboundAt) : undefined);
  }
  return startJourney(deps, {
    businessId: business.id,
    contact: { phone: a.phone },
    categories: a.categories,
    plan: askOncePlan('whatsapp'),
    source: { kind: 'agent', reference: `${a.agentId}/${a.ticketId}` },
    actor: a.actor ? { ...a.actor, agentId: a.agentId, ticketId: a.ticketId } : undefined,
  });
}

export interface WebformOptIn {
  businessId: string;
  phone: string;
  categories: string[];
  confirmBy: 'whatsapp' | 'sms';
  /** The form post as proof: what was shown, what was sent, from where. */
  evidence: Record<string, unknown>;
  reference: string;
}

/**
 * Someone asked on the business's sign-up form. Asked on the channel they chose; when the number's
 * WhatsApp budget for new contacts is used up, by SMS, which it does not limit. An opted-out number
 * starts nothing and is told nothing different (the form must not tell strangers who opted out).
 */
export async function askFromWebform(deps: ServiceDeps, f: WebformOptIn): Promise<{ askedBy: 'whatsapp' | 'sms' }> {
  const ask = (channel: 'whatsapp' | 'sms') =>
    startJourney(deps, {
      businessId: f.businessId,
      contact: { phone: f.phone },
      categories: f.categories,
      plan: askOncePlan(channel),
      source: { kind: 'web_form', reference: f.reference },
      evidence: { formPost: { ...f.evidence, askedBy: channel } },
    });
  try {
    try {
      await ask(f.confirmBy);
      return { askedBy: f.confirmBy };
    } catch (err) {
      if (!(err instanceof WhatsappTierUsedUpError)) throw err;
      await ask('sms');
      return { askedBy: 'sms' };
    }
  } catch (err) {
    if (err instanceof ContactOptedOutError) return { askedBy: f.confirmBy };
    throw err;
  }
}
