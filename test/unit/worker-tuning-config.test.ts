import { loadConfig, loadSandboxSettings } from '../../config/config';

/** The worker settings that tune workflow tasks, read from the environment and refused, naming the variable, when out of range. */
const base = { TWILIO_ACCOUNT_SID: 'AC' + 'ab'.repeat(16), TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789', PAGE_TOKEN_SECRET: 'x'.repeat(32), API_KEYS: 'k'.repeat(16) };

test('read from the environment as a number', () => {
  expect(loadConfig({ ...base, WORKER_NONSTICKY_POLL_RATIO: '0.5' }).WORKER_NONSTICKY_POLL_RATIO).toBe(0.5);
  expect(loadConfig({ ...base, WORKER_NONSTICKY_POLL_RATIO: '1' }).WORKER_NONSTICKY_POLL_RATIO).toBe(1);
});

test('the default is a fraction the SDK accepts', () => {
  const ratio = loadConfig(base).WORKER_NONSTICKY_POLL_RATIO;
  expect(ratio).toBeGreaterThan(0);
  expect(ratio).toBeLessThanOrEqual(1);
});

test('zero, above one and not a number are refused, naming the variable', () => {
  for (const value of ['0', '1.5', 'half']) expect(() => loadConfig({ ...base, WORKER_NONSTICKY_POLL_RATIO: value })).toThrow(/WORKER_NONSTICKY_POLL_RATIO/);
});

/** Threads that run workflow code (WORKER_WORKFLOW_THREADS): a whole number from 1 to 8, one by default as in the SDK. */
test('workflow threads: one by default, whole numbers from 1 to 8', () => {
  expect(loadConfig(base).WORKER_WORKFLOW_THREADS).toBe(1);
  expect(loadConfig({ ...base, WORKER_WORKFLOW_THREADS: '2' }).WORKER_WORKFLOW_THREADS).toBe(2);
  for (const value of ['0', '9', '1.5', 'two']) expect(() => loadConfig({ ...base, WORKER_WORKFLOW_THREADS: value })).toThrow(/WORKER_WORKFLOW_THREADS/);
});

/** How a workflow stuck in a loop is stopped (WORKER_WORKFLOW_GUARD): the SDK's bound by default, the worker's own when asked. */
test('workflow guard: per-call by default, activation when asked, nothing else', () => {
  expect(loadConfig(base).WORKER_WORKFLOW_GUARD).toBe('per-call');
  expect(loadConfig({ ...base, WORKER_WORKFLOW_GUARD: 'activation' }).WORKER_WORKFLOW_GUARD).toBe('activation');
  for (const value of ['none', 'PER-CALL', 'off']) expect(() => loadConfig({ ...base, WORKER_WORKFLOW_GUARD: value })).toThrow(/WORKER_WORKFLOW_GUARD/);
});

/** The sandbox settings alone (the bundle script, a benchmark's bare worker): the same values and refusals, with no secrets needed. */
test('sandbox settings read alone: defaults without the rest of the config, bad values refused by name', () => {
  expect(loadSandboxSettings({})).toEqual({ WORKER_WORKFLOW_GUARD: 'per-call', WORKER_WORKFLOW_STACK_TRACES: 'off' });
  expect(loadSandboxSettings({ WORKER_WORKFLOW_GUARD: 'activation', WORKER_WORKFLOW_STACK_TRACES: 'on', API_KEYS: '' })).toEqual({ WORKER_WORKFLOW_GUARD: 'activation', WORKER_WORKFLOW_STACK_TRACES: 'on' });
  expect(() => loadSandboxSettings({ WORKER_WORKFLOW_GUARD: 'Activation' })).toThrow(/WORKER_WORKFLOW_GUARD \(invalid\)/);
  expect(() => loadSandboxSettings({ WORKER_WORKFLOW_STACK_TRACES: 'yes' })).toThrow(/WORKER_WORKFLOW_STACK_TRACES \(invalid\)/);
});
