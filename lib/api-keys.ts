import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { keyIdPattern, ROLES, type ApiKeyGrant } from '../domain/access';
import type { BusinessRegistry } from '../domain/business';

/** A key the API accepted: what it may do and the caller id its request ids are scoped by. */
export interface AuthenticatedKey extends ApiKeyGrant {
  callerId: string;
}

export interface KeyRing {
  /** The grant of a presented key; undefined for a key nobody configured. */
  find(presented: string): AuthenticatedKey | undefined;
  size: number;
}

const HASH = /^sha256:([0-9a-f]{64})$/;

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The form a key is stored in: only its hash, so a leaked configuration file opens nothing. */
export function hashedKey(key: string): string {
  return `sha256:${sha256Hex(key)}`;
}

export const keysFileSchema = z.object({
  keys: z
    .array(
      z.object({
        id: z.string().regex(keyIdPattern, 'must be 1-63 letters, digits, _ . or -, starting with a letter or digit'),
        hash: z.string().regex(HASH, 'must be "sha256:" and the 64 lower-case hex digits of the key\'s SHA-256 (optinflow keys new prints one)'),
        role: z.enum(ROLES),
        businesses: z.union([z.literal('*'), z.array(z.string().min(1)).min(1, 'must name at least one business, or be "*"')]),
      }),
    )
    .min(1, 'must list at least one key'),
});
export type KeysFile = z.infer<typeof keysFileSchema>;

/**
 * Every key the API accepts: the keys file's scoped keys and the `API_KEYS` list, each of which is an
 * admin key for every business (what it was before keys had scopes). A key is looked up by its
 * SHA-256, so the plain key is never kept and the comparison does not depend on where the bytes differ.
 */
export function buildKeyRing(opts: { apiKeys?: readonly string[]; keysFile?: KeysFile; businesses?: BusinessRegistry; where?: string }): KeyRing {
  const byHash = new Map<string, AuthenticatedKey>();
  const add = (hash: string, grant: ApiKeyGrant, callerId: string, what: string) => {
    const earlier = byHash.get(hash);
    if (earlier) throw new Error(`${what}: the same key is configured twice (also as "${earlier.keyId}")`);
    byHash.set(hash, { ...grant, callerId });
  };
  for (const entry of opts.apiKeys ?? []) {
    const hash = HASH.exec(entry)?.[1] ?? sha256Hex(entry);
    // The caller id of an API_KEYS key is what it always was, so request ids sent before keep their meaning.
    const callerId = hash.slice(0, 16);
    add(hash, { keyId: `api-keys.${callerId.slice(0, 12)}`, role: 'admin', businesses: '*' }, callerId, 'API_KEYS');
  }
  const ids = new Set<string>();
  (opts.keysFile?.keys ?? []).forEach((k, i) => {
    const what = `${opts.where ?? 'keys file'}: keys.${i} ("${k.id}")`;
    if (ids.has(k.id)) throw new Error(`${what}: id is used by another key`);
    ids.add(k.id);
    if (k.businesses !== '*' && opts.businesses) {
      const unknown = k.businesses.filter((b) => !opts.businesses!.get(b));
      if (unknown.length) throw new Error(`${what}: businesses ${unknown.map((b) => `"${b}"`).join(', ')} not in BUSINESSES_FILE`);
    }
    add(HASH.exec(k.hash)![1], { keyId: k.id, role: k.role, businesses: k.businesses === '*' ? '*' : [...k.businesses] }, `key.${k.id}`, what);
  });
  return { find: (presented) => byHash.get(sha256Hex(presented)), size: byHash.size };
}

export function readKeysFile(file: string): KeysFile {
  const resolved = path.resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(resolved, 'utf8'));
  } catch (err) {
    throw new Error(`OPTINFLOW_KEYS_FILE ${resolved}: cannot read JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = keysFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`OPTINFLOW_KEYS_FILE ${resolved}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
