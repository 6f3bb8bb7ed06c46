import type { Business, BusinessRegistry } from '../domain/business';
import { InvalidInputError } from './errors';

/** The business named by a request; an unknown one is a 400 naming the field. */
export function requireKnownBusiness(businesses: BusinessRegistry, businessId: string, where = 'body'): Business {
  const business = businesses.get(businessId);
  if (!business) throw new InvalidInputError(where, [{ field: 'businessId', rule: 'must be a configured business', value: businessId }]);
  return business;
}

/** Categories must be ones the business declared; each unknown one is named with its position. */
export function requireKnownCategories(business: Business, categories: readonly string[], where = 'body', field = 'categories'): void {
  const known = new Set(business.categories.map((c) => c.id));
  const issues = categories.flatMap((c, i) => (known.has(c) ? [] : [{ field: `${field}.${i}`, rule: `unknown category for business "${business.id}" (known: ${[...known].join(', ')})`, value: c }]));
  if (issues.length) throw new InvalidInputError(where, issues);
}
