import { embeddedGoGc, embeddedGoMaxProcs } from '../../dev/go-env';

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

/** The GOMAXPROCS they get: half the cores unless EMBEDDED_GOMAXPROCS or GOMAXPROCS says otherwise. */
test('half the cores, at least one, unless EMBEDDED_GOMAXPROCS or GOMAXPROCS says otherwise; EMBEDDED_GOMAXPROCS wins', () => {
  expect(embeddedGoMaxProcs({}, 2)).toBe('1');
  expect(embeddedGoMaxProcs({}, 1)).toBe('1');
  expect(embeddedGoMaxProcs({}, 9)).toBe('4');
  expect(embeddedGoMaxProcs({ EMBEDDED_GOMAXPROCS: '' }, 8)).toBe('4');
  expect(embeddedGoMaxProcs({ GOMAXPROCS: '3' }, 2)).toBe('3');
  expect(embeddedGoMaxProcs({ GOMAXPROCS: '3', EMBEDDED_GOMAXPROCS: '2' }, 2)).toBe('2');
});

test('an EMBEDDED_GOMAXPROCS that is not a whole number from 1 to 9999 is refused by name', () => {
  for (const v of ['0', '-1', '1.5', 'all', ' 2', '01', '10000']) expect(() => embeddedGoMaxProcs({ EMBEDDED_GOMAXPROCS: v }, 2)).toThrow(/EMBEDDED_GOMAXPROCS must be a whole number from 1 to 9999/);
  expect(embeddedGoMaxProcs({ EMBEDDED_GOMAXPROCS: '9999' }, 2)).toBe('9999');
});
