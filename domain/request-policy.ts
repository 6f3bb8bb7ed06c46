import { quietEndsAt, type QuietHours } from './quiet-hours';

/**
 * When an opt-in request to one contact may go: outside the business's quiet hours in the contact's
 * local time, and not within `frequencyCapDays` of a request another journey sent them. Campaigns
 * apply the same quiet hours to their rows before starting journeys (domain/campaign.ts); this rule
 * covers every request a journey sends, its reminders and later steps included. Pure: the caller
 * passes the time and what the store knows.
 */

export const DEFERRAL_REASONS = ['quiet_hours', 'frequency_cap'] as const;
export type DeferralReason = (typeof DEFERRAL_REASONS)[number];

export interface Deferral {
  /** Epoch ms: the first instant the request may go. */
  until: number;
  /** What holds it back now (the cap first: quiet hours at its end only move it later). */
  reason: DeferralReason;
}

export interface RequestPolicyInput {
  now: number;
  /** The contact's possible zones (domain/campaign.ts `contactZones`). */
  zones: readonly string[];
  quietHours: QuietHours;
  frequencyCapDays: number;
  /** When another journey last sent this contact an opt-in request, if it did. */
  lastOtherRequestAt?: number;
}

const DAY_MS = 86_400_000;

/** Undefined when the request may go now. */
export function requestDeferral(p: RequestPolicyInput): Deferral | undefined {
  let until = p.now;
  let reason: DeferralReason | undefined;
  if (p.frequencyCapDays > 0 && p.lastOtherRequestAt !== undefined && p.lastOtherRequestAt + p.frequencyCapDays * DAY_MS > p.now) {
    until = p.lastOtherRequestAt + p.frequencyCapDays * DAY_MS;
    reason = 'frequency_cap';
  }
  // Zones whose allowed hours never overlap (a long night across a wide country) would defer forever:
  // then the contact's first zone alone decides.
  const quietEnd = quietEndsAt(until, p.zones, p.quietHours) ?? quietEndsAt(until, p.zones.slice(0, 1), p.quietHours) ?? until;
  if (quietEnd > until) {
    until = quietEnd;
    reason ??= 'quiet_hours';
  }
  return reason ? { until, reason } : undefined;
}

/**
 * Journeys whose first request answers the contact's own act just now: the web form and the
 * preference page they filled in, the agent's request in the chat they are writing in, the call they
 * made. Like an opt-out confirmation or a HELP answer, that request goes at once; their reminders and
 * later steps, if any, wait like any other.
 */
const CONTACT_INITIATED_SOURCES: ReadonlySet<string> = new Set(['web_form', 'preferences_page', 'agent', 'missed_call']);

/** Whether a journey's request of step `step` waits for quiet hours and the frequency cap. */
export function requestWaitsForPolicy(sourceKind: string | undefined, step: number, purpose: 'request' | 'reminder'): boolean {
  return !(step === 0 && purpose === 'request' && sourceKind !== undefined && CONTACT_INITIATED_SOURCES.has(sourceKind));
}
