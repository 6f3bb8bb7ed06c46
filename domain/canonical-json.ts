/**
 * A stable text for a value, so a hash over it does not depend on key order or on how the store
 * round-trips it: keys sorted, dates as ISO strings, and object members that are null, undefined or
 * empty objects left out (the driver writes undefined as null, and mongoose drops empty objects, so
 * a value read back from the store gives the same text as the one written).
 */
export function canonicalJson(value: unknown): string {
  const c = canonicalValue(value);
  return c === undefined ? 'null' : JSON.stringify(c);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => canonicalValue(v) ?? null);
  if (isPlainObject(value)) {
    // Store-specific value types (ObjectId, Decimal128) say what they are through toJSON.
    const own = typeof (value as { toJSON?: unknown }).toJSON === 'function' && Object.getPrototypeOf(value) !== Object.prototype ? (value as { toJSON(): unknown }).toJSON() : value;
    if (!isPlainObject(own)) return canonicalValue(own);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(own).sort()) {
      const v = canonicalValue(own[key]);
      if (v === undefined || (isPlainObject(v) && Object.keys(v).length === 0)) continue;
      // defineProperty: a stored key such as "__proto__" stays a key instead of changing the object.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
