import { createHash } from 'node:crypto';
import type { Business } from '../domain/business';
import { askOncePlan } from '../domain/plan';
import { isBlocked } from '../store/blocks';
import { optOutWorkflowId, type OptOutInput } from '../workflows/optout/contract';
import type { ServiceDeps, ServiceLog } from './deps';
import { ContactOptedOutError, WhatsappTierUsedUpError } from './errors';
import { startJourney } from './journeys';
import { optOutFinished, requestOptOut } from './optouts';

/** How long the page waits for an opt-out to be recorded before answering anyway (it is durable once started). */
const OPTOUT_WAIT_MS = 10_000;

export interface ContactPreferences {
  phone: string;
  optedOutOfAll: boolean;
  on: Set<string>;
}

/** What the preference page shows: the contact's categories switched on, and whether they opted out of everything. */
export async function readPreferences(deps: ServiceDeps, business: Business, contactId: string): Promise<ContactPreferences | undefined> {
  const [contact, consents] = await Promise.all([deps.store.contacts.findById(contactId).lean(), deps.store.consents.find({ businessId: business.id, contactId }).lean()]);
  if (!contact || contact.businessId !== business.id) return undefined;
  return { phone: contact.phone, optedOutOfAll: await isBlocked(deps.store, contactId, contact), on: new Set(consents.filter((c) => c.status === 'opted_in').map((c) => c.category)) };
}

export interface PreferenceChoice {
  business: Business;
  contactId: string;
  /** The signed link's nonce: the same link, the same form rendering and the same choice are one request. */
  linkNonce: string;
  formId: string;
  action: 'save' | 'unsubscribe_all';
  /** Categories the contact left switched on (save). */
  on: string[];
  /** The page as the contact saw it, kept as proof. */
  shownText: string;
  evidence: { ip: string; userAgent: string };
}

export type SwitchOnOutcome = { kind: 'asked' | 'journey_waiting' | 'opt_out_settling' | 'opted_out' } | { kind: 'tier_used_up'; until: Date };

export interface PreferenceResult {
  nothingToChange: boolean;
  switchedOff?: { everything: boolean; categories: string[]; settled: boolean };
  alreadyUnsubscribed?: boolean;
  switchedOn?: { categories: string[]; outcome: SwitchOnOutcome };
}

function choiceHash(formId: string, choice: string): string {
  return createHash('sha256').update(`${formId}\n${choice}`).digest('base64url').slice(0, 16);
}

/**
 * Switching off goes through the opt-out workflow (channel web; the page is the confirmation), switching
 * on starts a WhatsApp double opt-in journey: the contact's own act, confirmed where the messages will come.
 */
export async function applyPreferences(deps: ServiceDeps, state: ContactPreferences, c: PreferenceChoice, log: ServiceLog): Promise<PreferenceResult> {
  const b = c.business;
  const all = b.categories.map((cat) => cat.id);
  const wanted = new Set(c.on.filter((cat) => all.includes(cat)));
  const everything = c.action === 'unsubscribe_all';
  const switchOff = everything ? all : all.filter((cat) => state.on.has(cat) && !wanted.has(cat));
  const switchOn = everything ? [] : all.filter((cat) => wanted.has(cat) && !state.on.has(cat));
  if (switchOff.length === 0 && switchOn.length === 0) return { nothingToChange: true };

  const result: PreferenceResult = { nothingToChange: false };
  let optOutSettled = true;
  if (switchOff.length > 0 && !(everything && state.optedOutOfAll)) {
    const origin = `web.${c.linkNonce}.${choiceHash(c.formId, everything ? 'all' : `off:${switchOff.join(',')}`)}`;
    const input: OptOutInput = {
      origin,
      businessId: b.id,
      contactId: c.contactId,
      phone: state.phone,
      channel: 'web',
      categories: everything ? undefined : switchOff,
      reason: everything ? 'unsubscribe from all on the preference page' : 'switched off on the preference page',
      source: { kind: 'preferences_page', reference: c.linkNonce },
      receivedAt: new Date().toISOString(),
      text: c.shownText,
      payload: { form: { action: c.action, on: c.on }, ...c.evidence, shownText: c.shownText },
    };
    // "Unsubscribe from all" blocks the contact before the page answers, as a STOP does.
    const r = await requestOptOut(deps, input);
    if (r.progress === 'pending') log.warn({ optOutId: r.optOutId, detail: r.detail }, 'preference page answered before the contact was blocked');
    // Kept in the store while Temporal is slow (the sweep starts it): nothing to wait for yet.
    optOutSettled = r.progress === 'queued' ? false : await optOutFinished(deps, optOutWorkflowId(origin), OPTOUT_WAIT_MS);
    result.switchedOff = { everything, categories: switchOff, settled: optOutSettled };
  } else if (everything) {
    result.alreadyUnsubscribed = true;
  }

  if (switchOn.length > 0) {
    // Starting a journey while the opt-out is still running would let that opt-out end the new journey.
    const outcome = optOutSettled ? await askToSwitchOn(deps, b, state.phone, switchOn, c.linkNonce) : { kind: 'opt_out_settling' as const };
    result.switchedOn = { categories: switchOn, outcome };
  }
  return result;
}

async function askToSwitchOn(deps: ServiceDeps, b: Business, phone: string, categories: string[], linkNonce: string): Promise<SwitchOnOutcome> {
  try {
    const started = await startJourney(deps, { businessId: b.id, contact: { phone }, categories, plan: askOncePlan('whatsapp'), source: { kind: 'preferences_page', reference: `web.${linkNonce}` } });
    return { kind: started.existing ? 'journey_waiting' : 'asked' };
  } catch (err) {
    if (err instanceof WhatsappTierUsedUpError) return { kind: 'tier_used_up', until: new Date(Date.now() + (err.retryAfterSeconds ?? 60) * 1000) };
    if (err instanceof ContactOptedOutError) return { kind: 'opted_out' };
    throw err;
  }
}
