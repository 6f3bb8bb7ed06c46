import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets we must be able to use again (an event endpoint's HMAC key signs every delivery, so it
 * cannot be hashed) are kept sealed: AES-256-GCM under a key derived from EVENT_SECRETS_KEY, bound to
 * the record they belong to (its id is the additional data, so a sealed value copied to another
 * record does not open). A database dump alone then yields no usable secret.
 */

export const SEALED_PREFIX = 'sealed.v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretUnavailableError extends Error {}

export interface SecretBox {
  seal(secret: string, boundTo: string): string;
  /** The secret of a sealed value; a value not sealed (kept before sealing existed) is returned as it is. */
  open(stored: string, boundTo: string): string;
  /**
   * What to store instead: the secret sealed under the current key when `stored` is plain or opens
   * only with a previous key; undefined when it is sealed under the current key already.
   */
  resealed(stored: string, boundTo: string): string | undefined;
}

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);

// HKDF rather than the raw setting: the key is 32 bytes whatever the operator's string looks like.
const keyOf = (keyMaterial: string) => Buffer.from(hkdfSync('sha256', keyMaterial, 'optinflow', 'event endpoint secrets v1', 32));

function sealedParts(stored: string, boundTo: string): { iv: Buffer; tag: Buffer; sealed: Buffer } {
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretUnavailableError(`the sealed secret of ${boundTo} is truncated`);
  return { iv: raw.subarray(0, IV_BYTES), tag: raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES), sealed: raw.subarray(IV_BYTES + TAG_BYTES) };
}

/** The secret, or undefined when this key did not seal it for this record (or the value was altered). */
function openWith(key: Buffer, parts: { iv: Buffer; tag: Buffer; sealed: Buffer }, boundTo: string): string | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
  decipher.setAAD(Buffer.from(boundTo, 'utf8'));
  decipher.setAuthTag(parts.tag);
  try {
    return Buffer.concat([decipher.update(parts.sealed), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * Seals under `keyMaterial` (EVENT_SECRETS_KEY) and opens with it or, while a key is being rotated,
 * with one of `previousKeys` (EVENT_SECRETS_PREVIOUS_KEYS).
 */
export function secretBox(keyMaterial: string, previousKeys: readonly string[] = []): SecretBox {
  const current = keyOf(keyMaterial);
  const keys = [current, ...previousKeys.map(keyOf)];
  const seal = (secret: string, boundTo: string) => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  };
  const open = (stored: string, boundTo: string) => {
    if (!isSealed(stored)) return stored;
    const parts = sealedParts(stored, boundTo);
    for (const key of keys) {
      const secret = openWith(key, parts, boundTo);
      if (secret !== undefined) return secret;
    }
    const tried = previousKeys.length > 0 ? 'EVENT_SECRETS_KEY nor with EVENT_SECRETS_PREVIOUS_KEYS' : 'this EVENT_SECRETS_KEY';
    throw new SecretUnavailableError(`the sealed secret of ${boundTo} does not open with ${tried} (changed, or the value was altered)`);
  };
  return {
    seal,
    open,
    resealed(stored, boundTo) {
      if (isSealed(stored) && openWith(current, sealedParts(stored, boundTo), boundTo) !== undefined) return undefined;
      return seal(open(stored, boundTo), boundTo);
    },
  };
}

/** The box of a process's settings (EVENT_SECRETS_KEY, EVENT_SECRETS_PREVIOUS_KEYS); none without a key. */
export function eventSecretsBox(settings: { EVENT_SECRETS_KEY?: string; EVENT_SECRETS_PREVIOUS_KEYS?: string[] }): SecretBox | undefined {
  return settings.EVENT_SECRETS_KEY ? secretBox(settings.EVENT_SECRETS_KEY, settings.EVENT_SECRETS_PREVIOUS_KEYS) : undefined;
}

/** Opens a stored secret with the box when there is one; a sealed secret without a box cannot be used. */
export function openStoredSecret(stored: string, boundTo: string, box: SecretBox | undefined): string {
  if (!isSealed(stored)) return stored;
  if (!box) throw new SecretUnavailableError(`the secret of ${boundTo} is sealed and EVENT_SECRETS_KEY is not set on this process`);
  return box.open(stored, boundTo);
}
