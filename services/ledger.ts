import { sealLedger, verifyLedger, type LedgerVerification } from '../store/ledger-verify';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';

/** Walks every contact's chain of the business and names the first broken link of each (docs/compliance.md). */
export async function verifyBusinessLedger(deps: ServiceDeps, businessId: string): Promise<LedgerVerification> {
  const business = requireKnownBusiness(deps.businesses, businessId, 'query');
  return verifyLedger(deps.store, business.id);
}

/** Links the events written before the chain existed (a one-off after upgrading); running it again links nothing new. */
export async function sealBusinessLedger(deps: ServiceDeps, businessId: string): Promise<{ businessId: string; sealed: number }> {
  const business = requireKnownBusiness(deps.businesses, businessId);
  const { sealed } = await sealLedger(deps.store, business.id);
  return { businessId: business.id, sealed };
}
