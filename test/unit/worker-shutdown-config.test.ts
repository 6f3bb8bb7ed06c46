import { loadConfig } from '../../config/config';

/** The worker's shutdown bounds come from the environment and must make sense together. */
const base = { TWILIO_ACCOUNT_SID: 'AC' + 'ab'.repeat(16), TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789', PAGE_TOKEN_SECRET: 'x'.repeat(32), API_KEYS: 'k'.repeat(16) };

test('defaults: ten seconds for in-flight activities, thirty before giving up', () => {
  const c = loadConfig(base);
  expect([c.WORKER_SHUTDOWN_GRACE_SECONDS, c.WORKER_SHUTDOWN_FORCE_SECONDS]).toEqual([10, 30]);
});

test('values from the environment are read as whole seconds', () => {
  const c = loadConfig({ ...base, WORKER_SHUTDOWN_GRACE_SECONDS: '0', WORKER_SHUTDOWN_FORCE_SECONDS: '5' });
  expect([c.WORKER_SHUTDOWN_GRACE_SECONDS, c.WORKER_SHUTDOWN_FORCE_SECONDS]).toEqual([0, 5]);
});

test('a force time not above the grace time is refused, naming the variable', () => {
  expect(() => loadConfig({ ...base, WORKER_SHUTDOWN_GRACE_SECONDS: '30', WORKER_SHUTDOWN_FORCE_SECONDS: '30' })).toThrow(/WORKER_SHUTDOWN_FORCE_SECONDS \(invalid\): must be greater than WORKER_SHUTDOWN_GRACE_SECONDS/);
  expect(() => loadConfig({ ...base, WORKER_SHUTDOWN_GRACE_SECONDS: '-1' })).toThrow(/WORKER_SHUTDOWN_GRACE_SECONDS \(invalid\)/);
});
