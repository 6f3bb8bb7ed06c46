import { ApplicationFailure } from '@temporalio/activity';
import type { Business, BusinessRegistry } from '../domain/business';
import { FailureType } from '../workflows/failures';

/** The business an activity works for. An id no configured business has fails for good: retrying cannot help. */
export function requireBusiness(businesses: BusinessRegistry, id: string): Business {
  const business = businesses.get(id);
  if (!business) throw ApplicationFailure.create({ type: FailureType.UnknownBusiness, message: `unknown business "${id}"`, nonRetryable: true });
  return business;
}
