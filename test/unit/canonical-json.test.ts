import { canonicalJson } from '../../domain/canonical-json';

/** The text the ledger's content hashes are taken over: the same for a value and for that value read back from the store. */

test('keys are sorted at every depth, so field order does not change the text', () => {
  expect(canonicalJson({ b: 1, a: { d: [{ y: 2, x: 1 }], c: 'z' } })).toBe('{"a":{"c":"z","d":[{"x":1,"y":2}]},"b":1}');
  expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
});

test('dates become ISO strings, equal to the same instant written as a string', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  expect(canonicalJson({ at })).toBe('{"at":"2026-01-02T03:04:05.678Z"}');
  expect(canonicalJson({ at })).toBe(canonicalJson({ at: '2026-01-02T03:04:05.678Z' }));
});

test('members that are null, undefined or empty objects are left out (the store drops or rewrites them); list slots are kept', () => {
  expect(canonicalJson({ a: undefined, b: null, c: {}, d: { e: {} }, f: 0, g: '' })).toBe('{"f":0,"g":""}');
  expect(canonicalJson({ list: [1, undefined, null, {}] })).toBe('{"list":[1,null,null,{}]}');
});

test('a changed value changes the text', () => {
  expect(canonicalJson({ proof: { keyword: 'STOP' } })).not.toBe(canonicalJson({ proof: { keyword: 'STOP ' } }));
  expect(canonicalJson({ n: 1 })).not.toBe(canonicalJson({ n: '1' }));
});

test('a key named __proto__ stays a key', () => {
  const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
  expect(canonicalJson(value)).toBe('{"__proto__":{"polluted":true},"a":1}');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
