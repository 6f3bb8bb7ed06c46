import type { Business } from '../domain/business';
import { contactZones, isValidTimeZone } from '../domain/quiet-hours';
import { normalizePhone } from '../domain/phone';
import { requestDeferral, type Deferral } from '../domain/request-policy';
import type { ContactDoc, Store } from '../store/models';
import { lastRequestOfAnotherJourney, readOutbox } from '../store/outbox';
import { onlyOneJourneyBegun } from '../store/queries';

const DAY_MS = 86_400_000;

export interface PolicedRequest {
  idempotencyKey: string;
  businessId: string;
  contactId: string;
  phone: string;
  journeyId?: string;
  /** The contact's own zone, when the journey was given one. */
  timezone?: string;
}

/**
 * Whether an opt-in request must wait (quiet hours in the contact's zones, the business's frequency
 * cap), read inside the send activity so the check costs the journey no action of its own. A send
 * an earlier attempt already made or settled (its outbox row exists, not released) is never held
 * back: its retry only reports what happened. `contact` is the contact's document as the send read it:
 * when it shows this journey is the only one ever begun for the contact, no outbox search is needed
 * (the search is indexed on MongoDB but a scan of the whole outbox on FerretDB).
 */
export async function deferralOf(store: Store, business: Business, req: PolicedRequest, contact: ContactDoc | null, now = Date.now()): Promise<Deferral | undefined> {
  const capDays = business.frequencyCapDays;
  const lastOtherRequestAt =
    capDays > 0 && req.journeyId && !onlyOneJourneyBegun(contact)
      ? await lastRequestOfAnotherJourney(store, { businessId: req.businessId, contactId: req.contactId, journeyId: req.journeyId, since: new Date(now - capDays * DAY_MS) })
      : undefined;
  const own = req.timezone && isValidTimeZone(req.timezone) ? req.timezone : undefined;
  const phone = normalizePhone(req.phone);
  const zones = contactZones(own, phone.ok ? phone.country : undefined, business.quietHours.defaultTimezone);
  const deferral = requestDeferral({ now, zones, quietHours: business.quietHours, frequencyCapDays: capDays, lastOtherRequestAt: lastOtherRequestAt?.getTime() });
  if (!deferral) return undefined;
  const earlier = await readOutbox(store, req.idempotencyKey);
  return earlier && earlier.status !== 'released' ? undefined : deferral;
}
