import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed, expiring tokens carried in links we send (e-mail confirmation page, unsubscribe, preferences).
 * The signature binds the purpose, so an unsubscribe token cannot be replayed as a confirmation.
 * Single use is enforced by whoever consumes the token (the journey accepts one form answer).
 */
export const pageTokenPayloadSchema = z.object({
  p: z.enum(['confirm', 'unsubscribe', 'preferences', 'report']),
  b: z.string(),
  c: z.string(),
  j: z.string().optional(),
  cats: z.array(z.string()).optional(),
  ch: z.string().optional(),
  n: z.string(),
  exp: z.number().int(),
});
export type PageTokenPayload = z.infer<typeof pageTokenPayloadSchema>;
export type PageTokenPurpose = PageTokenPayload['p'];

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export function createPageToken(secret: string, payload: Omit<PageTokenPayload, 'n'> & { n?: string }): string {
  const full: PageTokenPayload = { ...payload, n: payload.n ?? randomBytes(9).toString('base64url') };
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  return `${body}.${sign(secret, body)}`;
}

export type TokenCheck = { ok: true; payload: PageTokenPayload } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_purpose' };

export function verifyPageToken(secret: string, token: string, purpose: PageTokenPurpose, now = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(sign(secret, parts[0]));
  const given = Buffer.from(parts[1]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad_signature' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = pageTokenPayloadSchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  if (parsed.data.p !== purpose) return { ok: false, reason: 'wrong_purpose' };
  if (parsed.data.exp * 1000 < now) return { ok: false, reason: 'expired' };
  return { ok: true, payload: parsed.data };
}
