import type { Business } from '../domain/business';
import { askOncePlan } from '../domain/plan';
import { contactIdOf } from '../store/models';
import type { ServiceDeps } from './deps';
import { ContactOptedOutError } from './errors';
import { startJourney } from './journeys';
import { requestOptOut, type OptOutOutcome } from './optouts';
import { signalJourney } from './journey-events';
import { FAILED_DELIVERY_STATUSES } from '../workflows/journey/contract';

/** The journey run an opt-in call belongs to (from the signed webhook URL we gave the provider). */
export interface CallRun {
  workflowId: string;
  runId: string;
}

export interface KeyPress extends CallRun {
  business: Business;
  callSid: string;
  digits: string;
  /** The contact's number (the call's To), E.164, when it parsed. */
  phone?: string;
  payload: Record<string, unknown>;
}

export type KeyPressOutcome = { kind: 'opted_out'; optOut?: OptOutOutcome } | { kind: 'answered'; decision: 'confirm' | 'decline' } | { kind: 'ended' } | { kind: 'unknown_key' };

/** A key pressed in the opt-in call: 1 confirms, 2 declines, 9 opts out of everything; the journey hears the first two. */
export async function receiveKeyPress(deps: ServiceDeps, k: KeyPress): Promise<KeyPressOutcome> {
  const receivedAt = new Date().toISOString();
  if (k.digits === '9') {
    if (!k.phone) return { kind: 'opted_out' };
    const optOut = await requestOptOut(deps, {
      origin: `ivr.${k.callSid}`,
      businessId: k.business.id,
      contactId: contactIdOf(k.business.id, k.phone),
      phone: k.phone,
      channel: 'ivr',
      reason: 'pressed 9 in the opt-in call',
      source: { kind: 'ivr_keypress', reference: k.callSid },
      receivedAt,
      payload: k.payload,
    });
    return { kind: 'opted_out', optOut };
  }
  if (k.digits !== '1' && k.digits !== '2') return { kind: 'unknown_key' };
  const decision = k.digits === '1' ? 'confirm' : 'decline';
  const delivered = await signalJourney(deps, `ivr.${k.callSid}.answer`, k, 'contactAnswered', {
    decision,
    channel: 'ivr',
    method: 'ivr_keypress',
    receivedAt,
    text: k.digits,
    providerId: k.callSid,
    payload: k.payload,
  });
  // Kept for the sweep while Temporal is away: the answer is durable, so the caller hears it was taken.
  return delivered === 'ended' ? { kind: 'ended' } : { kind: 'answered', decision };
}

/** The opt-in call ended without a key: the journey moves on. */
export async function receiveNoAnswer(deps: ServiceDeps, run: CallRun, callSid: string): Promise<void> {
  await signalJourney(deps, `ivr.${callSid}.no-answer`, run, 'ivrNoAnswer', { callSid, at: new Date().toISOString() });
}

/** A call that did not happen (busy, failed, no-answer, canceled) tells the journey; other statuses change nothing there. */
export async function receiveCallStatus(deps: ServiceDeps, run: CallRun, callSid: string, status: string): Promise<void> {
  if (!FAILED_DELIVERY_STATUSES.has(status)) return;
  await signalJourney(deps, `call.${callSid}.${status}`, run, 'providerStatus', { providerId: callSid, status, receivedAt: new Date().toISOString() });
}

export type MissedCallOutcome = { outcome: 'journey_started' | 'journey_running'; journeyId: string } | { outcome: 'frequency_capped' | 'ignored'; reason: string };

/**
 * A call to the business's number that nobody took (or that ended without the menu's key): ask the
 * caller for consent, on WhatsApp if they already write to us there, else by SMS, at most once per
 * frequency-cap window.
 */
export async function askMissedCaller(deps: ServiceDeps, business: Business, phone: string, callSid: string): Promise<MissedCallOutcome> {
  const contact = await deps.store.contacts.findById(contactIdOf(business.id, phone)).lean();
  const capMs = business.frequencyCapDays * 86_400_000;
  if (contact?.lastRequestAt && Date.now() - new Date(contact.lastRequestAt).getTime() < capMs) {
    return { outcome: 'frequency_capped', reason: `the caller was asked less than ${business.frequencyCapDays} days ago` };
  }
  // A caller who already writes to us on WhatsApp is asked there; anyone else by SMS, which every phone receives.
  const channel = contact?.lastWhatsappInboundAt ? 'whatsapp' : 'sms';
  try {
    const started = await startJourney(deps, {
      businessId: business.id,
      contact: { phone },
      categories: business.categories.map((c) => c.id),
      plan: askOncePlan(channel),
      source: { kind: 'missed_call', reference: callSid },
    });
    return { outcome: started.existing ? 'journey_running' : 'journey_started', journeyId: started.journeyId };
  } catch (err) {
    if (err instanceof ContactOptedOutError) return { outcome: 'ignored', reason: err.message };
    throw err;
  }
}
