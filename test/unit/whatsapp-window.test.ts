import { inServiceWindow, SERVICE_WINDOW_MS } from '../../domain/whatsapp-window';

const now = Date.parse('2026-11-22T12:00:00Z');

test.each([
  ['never wrote', undefined, false],
  ['wrote a minute ago', new Date(now - 60_000), true],
  ['wrote 23 h 59 min ago (ISO string from the store)', new Date(now - SERVICE_WINDOW_MS + 60_000).toISOString(), true],
  ['wrote exactly 24 h ago: closed', new Date(now - SERVICE_WINDOW_MS), false],
  ['wrote 2 days ago', new Date(now - 2 * SERVICE_WINDOW_MS), false],
])('%s', (_name, last, open) => {
  expect(inServiceWindow(last, now)).toBe(open);
});
