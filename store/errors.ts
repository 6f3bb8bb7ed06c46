/** True for MongoDB's duplicate-key error (11000): an insert that found its `_id` or unique key taken. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
