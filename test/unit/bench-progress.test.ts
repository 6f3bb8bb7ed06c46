import { waitForCount } from '../../bench/progress';

test('returns once the count reaches the target while it keeps moving', async () => {
  let n = 0;
  await waitForCount(() => ++n, 5, { timeoutMs: 5_000, intervalMs: 1, stallMs: 1_000, what: 'ticks' });
  expect(n).toBe(5);
});

test('calls a pass stalled, with how far it got, when the count stops moving', async () => {
  let n = 0;
  const count = () => Math.min(3, ++n);
  await expect(waitForCount(count, 5, { timeoutMs: 5_000, intervalMs: 5, stallMs: 60, what: 'requests' })).rejects.toThrow('stalled waiting for requests: 3 of 5');
});

test('still times out when the count moves too slowly', async () => {
  let n = 0;
  await expect(waitForCount(() => ++n, 1_000_000, { timeoutMs: 50, intervalMs: 5, stallMs: 1_000, what: 'slow ticks' })).rejects.toThrow(/^timed out after 0 s waiting for slow ticks: \d+ of 1000000$/);
});
