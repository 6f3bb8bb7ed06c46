import { embeddedGoGc } from '../../dev/servers';

/** The GOGC the embedded Go servers (Temporal's dev server, FerretDB) get. */
test('200 unless EMBEDDED_GOGC or GOGC says otherwise; EMBEDDED_GOGC wins', () => {
  expect(embeddedGoGc({})).toBe('200');
  expect(embeddedGoGc({ EMBEDDED_GOGC: '' })).toBe('200');
  expect(embeddedGoGc({ GOGC: '100' })).toBe('100');
  expect(embeddedGoGc({ GOGC: 'off' })).toBe('off');
  expect(embeddedGoGc({ GOGC: '100', EMBEDDED_GOGC: '400' })).toBe('400');
});

test('an EMBEDDED_GOGC that is not a whole number from 50 to 1000 is refused by name', () => {
  for (const v of ['off', '49', '1001', '2e2', '-100', '150.5', ' 200']) expect(() => embeddedGoGc({ EMBEDDED_GOGC: v })).toThrow(/EMBEDDED_GOGC must be a whole number from 50 to 1000/);
  expect(embeddedGoGc({ EMBEDDED_GOGC: '50' })).toBe('50');
  expect(embeddedGoGc({ EMBEDDED_GOGC: '1000' })).toBe('1000');
});
