import { types } from 'node:util';
import pino from 'pino';

/**
 * Masks personal data in what we log: phone numbers, e-mail addresses and what contacts are sent
 * or say. Fields known to carry them are masked whole, wherever they are nested (a failed write
 * carries the whole document it tried to store); any other text is searched for numbers and
 * addresses, in plain and URL-encoded form. Ids stay readable: contact ids are hashes, and
 * workflow ids are built from them.
 */

export const MASK = '[redacted]';
export const PHONE_MASK = '[phone]';
export const EMAIL_MASK = '[email]';

/** Field names (compared in lower case, without `_` or `-`) whose value is personal data whatever it looks like. */
const PERSONAL_FIELDS = new Set([
  'phone',
  'phones',
  'phonenumber',
  'email',
  'emails',
  'emailaddress',
  'to',
  'from',
  'body',
  'text',
  'html',
  'subject',
  'answertext',
  'shown',
  'renderedtext',
  'profilename',
  'contactname',
  'reason',
  'digits',
  'buttontext',
  'buttonpayload',
  'authorization',
  'xtwiliosignature',
  'cookie',
]);

const MAX_DEPTH = 8;
const MAX_ARRAY_ITEMS = 20;
const MAX_STRING = 4_000;

/*
 * A phone number: `+` and 8 to 15 digits, maybe grouped as people type them (+1 (415) 555-0101),
 * and the same URL-encoded (%2B14155550101, %2B1%20415...). A `+` must not follow a letter or
 * digit, so base64 (task tokens) is left alone. `whatsapp:+1…` is found by its `+`.
 */
const PHONE = /(?:(?<![A-Za-z0-9])\+|%2[Bb])\d(?:(?:[\s().+-]|%20|%28|%29){0,3}\d){7,14}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** A signed page token (payload.HMAC-SHA256 in base64url): a link to a contact's own consent pages. */
const PAGE_TOKEN = /[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

function isPersonalField(key: string, parentKey?: string): boolean {
  const name = key.toLowerCase().replace(/[_-]/g, '');
  // A contact's name is personal; a logger's, a business's or a campaign's is not.
  return PERSONAL_FIELDS.has(name) || (name === 'name' && parentKey?.toLowerCase() === 'contact');
}

/** Free text with every phone number, e-mail address and page token masked. */
export function redactText(text: string): string {
  // A cut through a number or an address would leave a part too short to be found: the last word goes with it.
  const short = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING).replace(/[\w.%+@()-]+$/, '')}…(${text.length} chars)` : text;
  return short.replace(EMAIL, EMAIL_MASK).replace(PHONE, PHONE_MASK).replace(PAGE_TOKEN, '[token]');
}

/** A request URL with personal query values masked whole and the rest searched as text. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return redactText(url);
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return redactText(pair);
      const name = pair.slice(0, eq);
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: the name is kept as sent, and still read as text below.
      }
      return `${redactText(name)}=${isPersonalField(decodedName) ? MASK : redactText(pair.slice(eq + 1))}`;
    })
    .join('&');
  return `${redactText(url.slice(0, queryAt))}?${query}`;
}

/** Errors from another realm (the workflow sandbox) too; not a plain object that was once an error. */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** Any value made safe to log: errors become plain objects (message, stack, own fields), then every field is masked as above. */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet(), key?: string): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (isError(value)) return redactFields(pino.stdSerializers.err(value) as unknown as Record<string, unknown>, depth, seen);
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ARRAY_ITEMS).map((item) => redactValue(item, depth + 1, seen, key));
      return value.length > MAX_ARRAY_ITEMS ? [...items, `…(${value.length - MAX_ARRAY_ITEMS} more)`] : items;
    }
    if (value instanceof Map) return redactFields(Object.fromEntries(value), depth, seen, key);
    if (value instanceof Set) return redactValue([...value], depth, seen, key);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactValue(toJSON.call(value), depth + 1, seen, key);
    return redactFields(value as Record<string, unknown>, depth, seen, key);
  } finally {
    seen.delete(value);
  }
}

function redactFields(fields: Record<string, unknown>, depth: number, seen: WeakSet<object>, parentKey?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const field = fields[key];
    if (field === undefined || typeof field === 'function') continue;
    out[redactText(key)] = isPersonalField(key, parentKey) && field !== null && field !== '' ? MASK : redactValue(field, depth + 1, seen, key);
  }
  return out;
}
