import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How consent-change events are signed (docs/events.md). The signature covers `${timestamp}.${body}`,
 * so a receiver that checks it and refuses timestamps older than a few minutes cannot be fed an old
 * delivery again; the event id in the body lets it drop a repeat within that window.
 */

export const SIGNATURE_HEADER = 'optinflow-signature';
export const TIMESTAMP_HEADER = 'optinflow-timestamp';
export const EVENT_ID_HEADER = 'optinflow-event-id';

export function signEvent(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** A receiver's check: the signature matches and the timestamp is within `toleranceSeconds` of now. */
export function verifyEvent(secret: string, headers: { timestamp?: string | null; signature?: string | null }, body: string, nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = 300): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signEvent(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
