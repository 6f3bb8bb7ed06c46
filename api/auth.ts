import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called the API: a hash of the API key used, never the key. Request ids are scoped by it. */
    callerId: string;
  }
}

function keyMatches(given: string, keys: string[]): boolean {
  const g = Buffer.from(given);
  return keys.some((k) => {
    const b = Buffer.from(k);
    return b.length === g.length && timingSafeEqual(b, g);
  });
}

/** One caller per API key; the hash is short because it only tells a handful of keys apart. */
export function callerIdOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

/** Every route of `scope` needs "Authorization: Bearer <api key>" with one of `keys`. */
export function requireApiKey(scope: FastifyInstance, keys: string[]): void {
  scope.decorateRequest('callerId', '');
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) throw new HttpError(401, 'unauthorized', 'Authorization header must be "Bearer <api key>"');
    if (!keyMatches(m[1], keys)) throw new HttpError(401, 'unauthorized', 'the API key is not valid');
    request.callerId = callerIdOf(m[1]);
  });
}

/** Whether an Authorization header carries one of `keys` (for routes outside /v1 that also take a signed link). */
export function hasApiKey(header: string | undefined, keys: string[]): boolean {
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m !== null && keyMatches(m[1], keys);
}
