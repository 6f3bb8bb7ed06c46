import { createHash } from 'node:crypto';
import { boundedPayload, cutText, LEFT_OUT_KEY, storableKey, type PayloadBounds } from '../domain/payload';
import type { Store } from './models';

/**
 * Inbound payloads (a provider's webhook form, a page's form post) kept as proof, keyed by what they
 * started (the opt-out's or the inbound message's workflow id), so the workflow input carries a
 * reference and a bounded summary instead of whatever arrived. Field names are stored as values, so
 * any name is fine; a value cut to size keeps its length and the SHA-256 of all of it.
 */

/** Per value and in all: every real webhook is kept whole; a hostile 3 MB value keeps its first 8 KB and its hash. */
export const STORED_BOUNDS: PayloadBounds = { valueChars: 8_192, keyChars: 256, totalChars: 65_536, entries: 500 };

export interface PayloadField {
  name: string;
  value: string | number | boolean | null;
  /** Only for a value (or a name) that was cut: its full length and hash. */
  length?: number;
  sha256?: string;
}

interface PayloadDoc {
  _id: string;
  fields: PayloadField[];
  /** Fields past the bounds, only counted. */
  leftOut: number;
  at: Date;
}
const payloadsOf = (store: Store) => store.connection.collection<PayloadDoc>('payloads');

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Flattens nested objects as `parent[child]` and lists as repeated names, the way a form posts them. */
function flatten(value: unknown, name: string, out: { name: string; value: unknown }[]): void {
  if (Array.isArray(value)) for (const item of value) flatten(item, name, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten(v, name ? `${name}[${k}]` : k, out);
  else if (value !== undefined) out.push({ name, value });
}

/** The payload as bounded name/value pairs. */
export function payloadFields(raw: Record<string, unknown>, bounds: PayloadBounds = STORED_BOUNDS): { fields: PayloadField[]; leftOut: number } {
  const all: { name: string; value: unknown }[] = [];
  flatten(raw, '', all);
  let budget = bounds.totalChars;
  const fields: PayloadField[] = [];
  for (const f of all) {
    if (fields.length === bounds.entries || budget <= 0) break;
    const text = typeof f.value === 'string' ? f.value : undefined;
    const name = cutText(f.name, bounds.keyChars);
    const value = text === undefined ? (typeof f.value === 'number' || typeof f.value === 'boolean' ? f.value : String(f.value)) : cutText(text, Math.min(bounds.valueChars, budget));
    const cut = text !== undefined && value !== text;
    fields.push({ name, value, ...(cut ? { length: text.length, sha256: sha256(text) } : {}) });
    budget -= name.length + String(value).length;
  }
  return { fields, leftOut: all.length - fields.length };
}

/** Keeps a payload once under its reference; keeping it again (a redelivery) changes nothing. */
export async function keepPayload(store: Store, ref: string, raw: Record<string, unknown>): Promise<void> {
  const { fields, leftOut } = payloadFields(raw);
  await payloadsOf(store).updateOne({ _id: ref }, { $setOnInsert: { fields, leftOut, at: new Date() } }, { upsert: true });
}

/** A kept payload as a record with storable field names (repeated names become lists), for a ledger event's proof. */
export async function readPayloadProof(store: Store, ref: string): Promise<Record<string, unknown> | undefined> {
  const doc = await payloadsOf(store).findOne({ _id: ref });
  if (!doc) return undefined;
  const record: Record<string, unknown> = {};
  for (const f of doc.fields) {
    const key = storableKey(f.name);
    const earlier = Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
    const value = earlier === undefined ? f.value : Array.isArray(earlier) ? [...earlier, f.value] : [earlier, f.value];
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (doc.leftOut > 0) record[LEFT_OUT_KEY] = `${doc.leftOut} more fields left out`;
  return boundedPayload(record, STORED_BOUNDS);
}

/**
 * The inbound payload a ledger event or an inbound record keeps as proof: the stored one when the
 * input has a reference (its summary was cut), else the input's own copy, bounded and made storable
 * (inputs of runs started before payloads were kept by reference carry the raw payload).
 */
export async function inboundProof(store: Store, input: { payload: Record<string, unknown>; payloadRef?: string }): Promise<Record<string, unknown>> {
  const stored = input.payloadRef ? await readPayloadProof(store, input.payloadRef) : undefined;
  return stored ?? boundedPayload(input.payload);
}
