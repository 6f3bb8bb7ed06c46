import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta signs every webhook with `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the exact bytes
 * of the body keyed with the app secret: it is checked on the raw body, before anything is parsed.
 */
export function validMetaSignature(appSecret: string, rawBody: Buffer, header: unknown): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The verification challenge: the token must be ours, compared in constant time. */
export function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
