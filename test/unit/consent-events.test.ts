import { deliveryAnswer, perContactInOrder, retryDelayMs } from '../../domain/consent-events';
import { signEvent, verifyEvent } from '../../lib/event-signature';

test('the backoff doubles per failed round up to its ceiling', () => {
  const s = { retryInitialMs: 1_000, retryMaxMs: 5_000 };
  expect([1, 2, 3, 4, 5, 100].map((n) => retryDelayMs(s, n))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
});

test.each([
  [200, 'delivered'],
  [204, 'delivered'],
  [400, 'refused'],
  [409, 'refused'],
  [413, 'refused'],
  [415, 'refused'],
  [422, 'refused'],
  [undefined, 'receiver_down'],
  [500, 'receiver_down'],
  [503, 'receiver_down'],
  [408, 'receiver_down'],
  [429, 'receiver_down'],
  [301, 'failed'],
  [401, 'failed'],
  [403, 'failed'],
  [404, 'failed'],
  [410, 'failed'],
])('a receiver answering %s: %s', (status, kind) => {
  expect(deliveryAnswer(status)).toBe(kind);
});

test('events are grouped per contact, each contact in ledger order (time recorded, then id)', () => {
  const e = (id: string, contactId: string, recordedAt: number) => ({ _id: id, contactId, at: new Date(0), recordedAt: new Date(recordedAt) });
  const groups = perContactInOrder([e('b2', 'b', 5), e('a2', 'a', 9), e('a1', 'a', 3), e('b1', 'b', 5), e('c1', 'c', 1)]);
  expect(groups.map((g) => g.map((x) => x._id))).toEqual([['b1', 'b2'], ['a1', 'a2'], ['c1']]);
});

test('an event about an earlier moment recorded later goes after the ones recorded before it', () => {
  // A paper consent signed yesterday, recorded after today's STOP: the ledger (and the chain) has the STOP first.
  const stop = { _id: 'z-stop', contactId: 'a', at: new Date(2_000), recordedAt: new Date(2_000) };
  const paper = { _id: 'a-paper', contactId: 'a', at: new Date(1_000), recordedAt: new Date(3_000) };
  expect(perContactInOrder([paper, stop])[0].map((x) => x._id)).toEqual(['z-stop', 'a-paper']);
});

test('events without recordedAt (written before it existed) fall back to their time', () => {
  const e = (id: string, at: number) => ({ _id: id, contactId: 'a', at: new Date(at) });
  expect(perContactInOrder([e('x', 5), e('y', 2)])[0].map((x) => x._id)).toEqual(['y', 'x']);
});

describe('event signatures', () => {
  const secret = 'whsec_0123456789abcdef0123456789abcdef';
  const body = '{"id":"e1"}';
  const now = 1_800_000_000;
  const signature = signEvent(secret, now, body);

  test('a receiver accepts the body it was sent, at the time it was sent', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyEvent(secret, { timestamp: String(now), signature }, body, now + 10)).toBe(true);
  });

  test.each([
    ['another body', { timestamp: String(now), signature }, '{"id":"e2"}', now],
    ['another secret', { timestamp: String(now), signature: signEvent(`${secret}x`, now, body) }, body, now],
    ['a timestamp moved', { timestamp: String(now + 1), signature }, body, now + 1],
    ['a replay ten minutes later', { timestamp: String(now), signature }, body, now + 600],
    ['no signature', { timestamp: String(now), signature: undefined }, body, now],
  ])('it refuses %s', (_what, headers, sent, at) => {
    expect(verifyEvent(secret, headers, sent, at)).toBe(false);
  });
});
