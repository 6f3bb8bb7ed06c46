import { loadConfig } from '../../config/config';
import { eventSecretsBox, secretBox } from '../../lib/secret-box';

/** The keys that seal event endpoints' secrets come from the environment; a rotation names the keys replaced. */
const base = { TWILIO_ACCOUNT_SID: 'AC' + 'ab'.repeat(16), TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789', PAGE_TOKEN_SECRET: 'x'.repeat(32), API_KEYS: 'k'.repeat(16) };
const KEY = 'current-event-secrets-key-0123456789abcdef';
const OLD = 'previous-event-secrets-key-0123456789abcdef';
const OLDER = 'older-event-secrets-key-0123456789abcdefgh';

test('previous keys are read as a comma-separated list, and the box opens what each sealed', () => {
  const c = loadConfig({ ...base, EVENT_SECRETS_KEY: KEY, EVENT_SECRETS_PREVIOUS_KEYS: ` ${OLD} , ${OLDER},` });
  expect(c.EVENT_SECRETS_PREVIOUS_KEYS).toEqual([OLD, OLDER]);
  const box = eventSecretsBox(c)!;
  expect(box.open(secretBox(OLDER).seal('s-0123456789', 'ep_1'), 'ep_1')).toBe('s-0123456789');
  expect(box.open(secretBox(KEY).seal('s-0123456789', 'ep_1'), 'ep_1')).toBe('s-0123456789');
});

test('without EVENT_SECRETS_KEY there is no box, and previous keys alone are refused, naming the variable', () => {
  expect(eventSecretsBox(loadConfig(base))).toBeUndefined();
  expect(() => loadConfig({ ...base, EVENT_SECRETS_PREVIOUS_KEYS: OLD })).toThrow(/EVENT_SECRETS_PREVIOUS_KEYS \(invalid\): needs EVENT_SECRETS_KEY/);
});

test('a previous key shorter than 32 characters is refused', () => {
  expect(() => loadConfig({ ...base, EVENT_SECRETS_KEY: KEY, EVENT_SECRETS_PREVIOUS_KEYS: `${OLD},short` })).toThrow(/EVENT_SECRETS_PREVIOUS_KEYS.*each key must be at least 32 characters/);
});
