import { pollUntil } from '../../store/poll';

/** A fake read that answers `values` in turn (the last one from then on) and notes when it was asked. */
function reads<T>(values: T[]) {
  const start = Date.now();
  const at: number[] = [];
  const read = async () => {
    at.push(Date.now() - start);
    return values[Math.min(at.length - 1, values.length - 1)];
  };
  return { read, at };
}

describe('re-reading the store until something holds', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function run<T>(promise: Promise<T>): Promise<T> {
    await jest.runAllTimersAsync();
    return promise;
  }

  test('stops at the first read that holds and answers it, re-reading after doubling delays', async () => {
    const r = reads([3, 2, 0, 5]);
    expect(await run(pollUntil(r.read, (n) => n === 0, { firstDelayMs: 50, maxDelayMs: 400, waitMs: 25_000 }))).toBe(0);
    expect(r.at).toEqual([0, 50, 150]);
  });

  test('doubles up to the cap, sleeps only to the deadline and answers the read made there', async () => {
    const r = reads([1, 1, 1, 1, 1, 1, 1, 2]);
    expect(await run(pollUntil(r.read, (n) => n === 0, { firstDelayMs: 10, maxDelayMs: 40, waitMs: 200 }))).toBe(2);
    expect(r.at).toEqual([0, 10, 30, 70, 110, 150, 190, 200]);
  });

  test('without a cap, the wait alone bounds the delays', async () => {
    const r = reads(['claimed']);
    expect(await run(pollUntil(r.read, (s) => s !== 'claimed', { firstDelayMs: 100, waitMs: 2_000 }))).toBe('claimed');
    expect(r.at).toEqual([0, 100, 300, 700, 1_500, 2_000]);
  });

  test('no wait reads once', async () => {
    const r = reads([4, 0]);
    expect(await run(pollUntil(r.read, (n) => n === 0, { firstDelayMs: 50, maxDelayMs: 400, waitMs: 0 }))).toBe(4);
    expect(r.at).toEqual([0]);
  });

  test('the wait counts from the call: a slow read uses it up and is followed by no sleep past the deadline', async () => {
    const start = Date.now();
    const at: number[] = [];
    const slowRead = async () => {
      at.push(Date.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 60));
      return 1;
    };
    expect(await run(pollUntil(slowRead, (n) => n === 0, { firstDelayMs: 50, maxDelayMs: 400, waitMs: 100 }))).toBe(1);
    expect(at).toEqual([0, 100]);
  });
});

test('with real timers, a value that comes after a few milliseconds is seen', async () => {
  let ready = false;
  setTimeout(() => (ready = true), 30);
  const started = Date.now();
  expect(await pollUntil(async () => ready, (v) => v, { firstDelayMs: 5, maxDelayMs: 20, waitMs: 5_000 })).toBe(true);
  expect(Date.now() - started).toBeLessThan(2_000);
});
