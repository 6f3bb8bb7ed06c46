import { boundPayload, boundedPayload, LEFT_OUT_KEY, storableKey, withStorableKeys } from '../../domain/payload';

describe('storableKey', () => {
  test.each([
    ['$where', '\uFF04where'],
    ['a.b', 'a\uFF0Eb'],
    ['$set.x', '\uFF04set\uFF0Ex'],
    ['a$', 'a$'],
    ['x\0y', 'x\uFFFDy'],
    ['MessageSid', 'MessageSid'],
  ])('%j becomes %j, and stays so when applied again', (key, storable) => {
    expect(storableKey(key)).toBe(storable);
    expect(storableKey(storableKey(key))).toBe(storable);
  });
});

describe('withStorableKeys', () => {
  test('renames at every depth and keeps dates and other values', () => {
    const at = new Date();
    const out = withStorableKeys({ inbound: { $where: '1', list: [{ 'a.b': 2 }] }, at, n: 3 });
    expect(out).toEqual({ inbound: { '\uFF04where': '1', list: [{ 'a\uFF0Eb': 2 }] }, at, n: 3 });
    expect(out.at).toBe(at);
  });

  test('returns the same object when every name is storable already', () => {
    const proof = { method: 'keyword', inbound: { Body: 'STOP' } };
    expect(withStorableKeys(proof)).toBe(proof);
  });

  test('a field named __proto__ stays a field', () => {
    const raw = JSON.parse('{"__proto__": {"polluted": true}, "$x": 1}');
    const out = withStorableKeys(raw) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__', '\uFF04x']);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe('boundPayload', () => {
  const twilioForm = { MessageSid: 'SM' + 'a'.repeat(32), From: '+14155550100', To: '+15005550006', Body: 'x'.repeat(1600), NumMedia: '0' };

  test('a real webhook passes whole and unchanged', () => {
    expect(boundPayload(twilioForm)).toEqual({ payload: twilioForm, changed: false });
  });

  test('a 3 MB value is cut and says how long it was; the whole stays small', () => {
    const { payload, changed } = boundPayload({ ...twilioForm, ProfileName: 'p'.repeat(3_000_000) });
    expect(changed).toBe(true);
    expect(payload.MessageSid).toBe(twilioForm.MessageSid);
    expect(String(payload.ProfileName)).toMatch(/\[3000000 characters, cut\]$/);
    expect(JSON.stringify(payload).length).toBeLessThan(20_000);
  });

  test('too many fields: the rest are counted, not kept', () => {
    const many = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`f${i}`, 'v']));
    const payload = boundedPayload(many);
    expect(Object.keys(payload)).toHaveLength(101);
    expect(payload[LEFT_OUT_KEY]).toBe('900 more fields left out');
  });

  test('names the store refuses are renamed; bounding twice changes nothing more', () => {
    const once = boundedPayload({ $where: 'sleep(1)', 'a.b': 'c', huge: 'h'.repeat(100_000), nested: { '$gt': [1, 2] } });
    expect(Object.keys(once)).toEqual(['\uFF04where', 'a\uFF0Eb', 'huge', 'nested']);
    expect(boundPayload(once)).toEqual({ payload: once, changed: false });
  });
});
