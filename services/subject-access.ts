import { isBlocked } from '../store/blocks';
import { erasedAt } from '../store/erasure';
import { contactIdOf } from '../store/models';
import { collectSubjectData } from '../store/subject';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';
import { suppressionHashOf } from './erasure';

/**
 * Everything held about one person, for a subject-access request: the contact, current consents, the
 * ledger with its proof and chain links, journeys, messages sent and received with their delivery
 * reports and kept payloads, campaign rows, and work still pending. After an erasure, what is left
 * (the pseudonymous ledger) and when the number was erased.
 */
export async function exportContact(deps: ServiceDeps & { erasureHashSecret?: string }, businessId: string, phone: string) {
  const business = requireKnownBusiness(deps.businesses, businessId, 'query');
  const contactId = contactIdOf(business.id, phone);
  const key = { businessId: business.id, contactId, phone };
  const [held, blocked, erased] = await Promise.all([
    collectSubjectData(deps.store, key),
    isBlocked(deps.store, contactId),
    deps.erasureHashSecret ? erasedAt(deps.store, suppressionHashOf(deps.erasureHashSecret, business.id, phone)) : undefined,
  ]);
  return {
    businessId: business.id,
    businessName: business.name,
    phone,
    contactId,
    exportedAt: new Date().toISOString(),
    messaging: blocked ? 'opted_out' : 'allowed',
    ...(erased ? { erased: { at: erased } } : {}),
    ...held,
  };
}
