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
}

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);

export function secretBox(keyMaterial: string): SecretBox {
  // HKDF rather than the raw setting: the key is 32 bytes whatever the operator's string looks like.
  const key = Buffer.from(hkdfSync('sha256', keyMaterial, 'optinflow', 'event endpoint secrets v1', 32));
  return {
    seal(secret, boundTo) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo, 'utf8'));
      const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open(stored, boundTo) {
      if (!isSealed(stored)) return stored;
      const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretUnavailableError(`the sealed secret of ${boundTo} is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnavailableError(`the sealed secret of ${boundTo} does not open with this EVENT_SECRETS_KEY (changed, or the value was altered)`);
      }
    },
  };
}

/** Opens a stored secret with the box when there is one; a sealed secret without a box cannot be used. */
export function openStoredSecret(stored: string, boundTo: string, box: SecretBox | undefined): string {
  if (!isSealed(stored)) return stored;
  if (!box) throw new SecretUnavailableError(`the secret of ${boundTo} is sealed and EVENT_SECRETS_KEY is not set on this process`);
  return box.open(stored, boundTo);
}
