import { openStoredSecret, SEALED_PREFIX, secretBox, SecretUnavailableError } from '../../lib/secret-box';

const KEY = 'unit-test-event-secrets-key-0123456789';
const SECRET = 'whsec_receiver-secret-0123456789abcdefghij';

describe('secretBox', () => {
  const box = secretBox(KEY);

  test('seals to a value that names none of the secret and opens to it', () => {
    const sealed = box.seal(SECRET, 'ep_1');
    expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
    expect(sealed).not.toContain(SECRET);
    expect(sealed).not.toContain('receiver-secret');
    expect(box.open(sealed, 'ep_1')).toBe(SECRET);
  });

  test('seals the same secret differently each time (a fresh nonce)', () => {
    expect(box.seal(SECRET, 'ep_1')).not.toBe(box.seal(SECRET, 'ep_1'));
  });

  test('a sealed value does not open for another record, under another key, or once altered', () => {
    const sealed = box.seal(SECRET, 'ep_1');
    expect(() => box.open(sealed, 'ep_2')).toThrow(SecretUnavailableError);
    expect(() => secretBox(`${KEY}-rotated`).open(sealed, 'ep_1')).toThrow(/does not open with this EVENT_SECRETS_KEY/);
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(() => box.open(SEALED_PREFIX + raw.toString('base64url'), 'ep_1')).toThrow(SecretUnavailableError);
    expect(() => box.open(`${SEALED_PREFIX}abc`, 'ep_1')).toThrow(/truncated/);
  });

  test('while a key is rotated, a value sealed under a previous key opens and is sealed again under the current one', () => {
    const previous = `${KEY}-previous`;
    const old = secretBox(previous).seal(SECRET, 'ep_1');
    const rotating = secretBox(KEY, [previous]);
    expect(rotating.open(old, 'ep_1')).toBe(SECRET);
    const resealed = rotating.resealed(old, 'ep_1')!;
    expect(box.open(resealed, 'ep_1')).toBe(SECRET);
    expect(() => secretBox(previous).open(resealed, 'ep_1')).toThrow(SecretUnavailableError);
    expect(rotating.resealed(resealed, 'ep_1')).toBeUndefined();
    expect(box.open(rotating.resealed(SECRET, 'ep_1')!, 'ep_1')).toBe(SECRET);
    expect(() => rotating.resealed(secretBox(`${KEY}-unknown`).seal(SECRET, 'ep_1'), 'ep_1')).toThrow(/nor with EVENT_SECRETS_PREVIOUS_KEYS/);
    expect(() => rotating.open(old, 'ep_2')).toThrow(SecretUnavailableError);
  });

  test('a value kept before sealing existed is used as it is', () => {
    expect(box.open(SECRET, 'ep_1')).toBe(SECRET);
    expect(openStoredSecret(SECRET, 'ep_1', undefined)).toBe(SECRET);
  });

  test('a sealed value without a box is refused, naming the setting', () => {
    expect(() => openStoredSecret(box.seal(SECRET, 'ep_1'), 'ep_1', undefined)).toThrow(/EVENT_SECRETS_KEY is not set/);
    expect(openStoredSecret(box.seal(SECRET, 'ep_1'), 'ep_1', box)).toBe(SECRET);
  });
});
