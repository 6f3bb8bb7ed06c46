/**
 * What a contact or a provider sends is kept as proof, but it is written by whoever sends it: any
 * size, any field name. Copies that travel in workflow inputs and sit in documents are bounded, and
 * their field names are ones MongoDB and FerretDB accept. The full payload, also bounded, is kept in
 * the store by reference (store/payloads.ts).
 */

/**
 * MongoDB refuses a field name that starts with "$" or contains "." (FerretDB wherever it is in the
 * document) and one with a NUL; those characters become their full-width look-alikes. Applying it
 * twice changes nothing, so a name already made storable passes through untouched.
 */
export function storableKey(key: string): string {
  return key.replace(/^\$/, '\uFF04').replace(/\./g, '\uFF0E').replace(/\0/g, '\uFFFD');
}

/** An object literal or a parsed form (whose prototype may have none): not a Date, an ObjectId or a buffer. */
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
};

/** Sets a field by definition, so a field named "__proto__" is a field like any other. */
function setField(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `value` with storable field names at every depth; the same object when every name already is. Dates and other values pass as they are. */
export function withStorableKeys<T>(value: T): T {
  if (Array.isArray(value)) {
    const items = value.map((v) => withStorableKeys(v));
    return (items.some((v, i) => v !== value[i]) ? items : value) as T;
  }
  if (!isPlainObject(value)) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = storableKey(k);
    const inner = withStorableKeys(v);
    if (key !== k || inner !== v) changed = true;
    setField(out, key, inner);
  }
  return (changed ? out : value) as T;
}

export interface PayloadBounds {
  /** Characters kept of one value (a longer one is cut and says how long it was). */
  valueChars: number;
  /** Characters kept of one field name. */
  keyChars: number;
  /** Characters of names and values together; past it, the remaining fields are only counted. */
  totalChars: number;
  /** Fields (and list items) kept per object or list. */
  entries: number;
}

/**
 * The copy a workflow input carries. A real provider webhook fits whole: a few dozen fields, a Body
 * of at most 1,600 characters (4,096 on WhatsApp is cut, but the message text travels on its own).
 * Anything past it was not written by the provider, and the stored payload keeps more of it.
 */
export const SUMMARY_BOUNDS: PayloadBounds = { valueChars: 2_048, keyChars: 128, totalChars: 16_384, entries: 100 };

/** The name under which a bounded copy counts the fields it left out. */
export const LEFT_OUT_KEY = '\u2026';

/** A string cut to `max` characters, the cut one saying how long it was; a string already cut stays as it is. */
export function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const note = `\u2026 [${s.length} characters, cut]`;
  return s.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * A bounded copy of a payload with storable field names, small enough for a workflow input and safe
 * for any document; `changed` tells whether anything was cut, renamed or left out.
 */
export function boundPayload(raw: Record<string, unknown>, bounds: PayloadBounds = SUMMARY_BOUNDS): { payload: Record<string, unknown>; changed: boolean } {
  let budget = bounds.totalChars;
  let changed = false;
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const s = cutText(value, Math.min(bounds.valueChars, Math.max(0, budget)));
      budget -= s.length;
      if (s !== value) changed = true;
      return s;
    }
    if (Array.isArray(value)) {
      const items = value.slice(0, bounds.entries).map(copy);
      if (value.length <= bounds.entries) return items;
      changed = true;
      return [...items, `${value.length - bounds.entries} more items left out`];
    }
    if (isPlainObject(value)) return copyObject(value);
    budget -= 8;
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
    changed = true;
    return String(value);
  };
  const copyObject = (o: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(o).filter(([, v]) => v !== undefined);
    let kept = 0;
    for (const [k, v] of entries) {
      if (kept === bounds.entries || budget <= 0) break;
      const key = storableKey(cutText(k, bounds.keyChars));
      if (key !== k) changed = true;
      budget -= key.length;
      setField(out, key, copy(v));
      kept++;
    }
    if (kept < entries.length) {
      changed = true;
      setField(out, LEFT_OUT_KEY, `${entries.length - kept} more fields left out`);
    }
    return out;
  };
  return { payload: copyObject(raw), changed };
}

/** boundPayload's copy alone. */
export function boundedPayload(raw: Record<string, unknown>, bounds: PayloadBounds = SUMMARY_BOUNDS): Record<string, unknown> {
  return boundPayload(raw, bounds).payload;
}
