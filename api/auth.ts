import type { FastifyInstance } from 'fastify';
import { mayActFor } from '../domain/access';
import type { AuthenticatedKey, KeyRing } from '../lib/api-keys';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called the API: the key's id, role and businesses, never the key. */
    caller: AuthenticatedKey;
    /** Request ids are scoped by it: the key id, or for an `API_KEYS` key a short hash of it. */
    callerId: string;
  }
}

/** Every route of `scope` needs "Authorization: Bearer <api key>" with a key of the ring. */
export function requireApiKey(scope: FastifyInstance, keys: KeyRing): void {
  scope.decorateRequest('callerId', '');
  scope.decorateRequest('caller', null as unknown as AuthenticatedKey);
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) throw new HttpError(401, 'unauthorized', 'Authorization header must be "Bearer <api key>"');
    const key = keys.find(m[1]);
    if (!key) throw new HttpError(401, 'unauthorized', 'the API key is not valid');
    request.caller = key;
    request.callerId = key.callerId;
  });
}

/**
 * Whether an Authorization header carries a key of the ring that may act for `businessId` (for
 * routes outside /v1 that also take a signed link, such as the report page; any role may read).
 */
export function hasApiKey(header: string | undefined, keys: KeyRing, businessId: string): boolean {
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  const key = m ? keys.find(m[1]) : undefined;
  return key !== undefined && mayActFor(key, businessId);
}
