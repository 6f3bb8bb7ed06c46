import { createConsentReport } from '../../domain/consent-report';
import { addDurationCounts, bucketStart, bucketStarts, countDuration, countedStats, durationStats, share, significantMs, type DurationCounts } from '../../domain/report-stats';

test('nearest-rank percentiles in seconds; none is null', () => {
  const ms = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
  expect(durationStats(ms)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99 });
  expect(durationStats([250])).toEqual({ count: 1, p50: 0.25, p95: 0.25, p99: 0.25 });
  expect(durationStats([])).toEqual({ count: 0, p50: null, p95: null, p99: null });
  expect(share(3, 4)).toBe(0.75);
  expect(share(0, 0)).toBeNull();
});

test('durations are counted to three significant digits; counts of two days add up to the same percentiles', () => {
  expect([0, 7, 999, 1000, 1_234, 99_999, 123_456, 300_900, 3_600_000].map(significantMs)).toEqual([0, 7, 999, 1000, 1_230, 99_900, 123_000, 300_000, 3_600_000]);
  expect(durationStats([123_456, 1_999])).toEqual({ count: 2, p50: 1.99, p95: 123, p99: 123 });
  const ms = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 100_003);
  const [a, b, all]: DurationCounts[] = [{}, {}, {}];
  ms.forEach((d, i) => countDuration(i % 3 ? a : b, d));
  addDurationCounts(all, a);
  addDurationCounts(all, b);
  expect(countedStats(all)).toEqual(durationStats(ms));
  // The exact nearest-rank percentile, cut to three significant digits.
  const sorted = [...ms].sort((x, y) => x - y);
  expect(countedStats(all).p95).toBe(significantMs(sorted[949]) / 1000);
  expect(countedStats({})).toEqual({ count: 0, p50: null, p95: null, p99: null });
});

test('days and ISO weeks in UTC', () => {
  const wed = Date.parse('2025-06-04T23:30:00Z');
  expect(new Date(bucketStart(wed, 'day')).toISOString()).toBe('2025-06-04T00:00:00.000Z');
  expect(new Date(bucketStart(wed, 'week')).toISOString()).toBe('2025-06-02T00:00:00.000Z');
  expect(new Date(bucketStart(Date.parse('2025-06-08T10:00:00Z'), 'week')).toISOString()).toBe('2025-06-02T00:00:00.000Z');
  expect(bucketStarts(Date.parse('2025-06-01T12:00:00Z'), Date.parse('2025-06-03T00:00:00Z'), 'day').map((t) => new Date(t).toISOString().slice(0, 10))).toEqual(['2025-06-01', '2025-06-02']);
});

test('an opt-out of three categories counts once; an opt-in of two categories is one answer', () => {
  const report = createConsentReport({ businessId: 'acme', from: new Date('2025-06-01'), to: new Date('2025-06-02'), interval: 'day', groupBy: 'channel' });
  const at = '2025-06-01T10:00:00.000Z';
  for (const category of ['a', 'b', 'c']) {
    report.addLedgerEvent({ category, type: 'opted_out', at, proof: { optOutId: 'o1', method: 'keyword', channel: 'sms', text: 'Stop please', receivedAt: at, recordedAt: '2025-06-01T10:00:01.500Z' } });
  }
  for (const category of ['a', 'b']) {
    report.addLedgerEvent({ category, type: 'opted_in', at, proof: { journeyId: 'j1', method: 'sms_reply', channel: 'sms', confirmedCategories: ['a', 'b'], requestedAt: '2025-06-01T09:00:00.000Z', answeredAt: at } });
  }
  report.addLedgerEvent({ category: 'a', type: 'opted_out', at: '2025-06-03T00:00:00.000Z', proof: { optOutId: 'late' } });
  report.addOptOutConfirmation('o1', '2025-06-01T10:06:00.000Z');
  const r = report.finish();
  expect(r.optOuts).toMatchObject({ total: 1, bySource: { keyword: 1 }, byCategory: { a: 1, b: 1, c: 1 }, byKeyword: [{ keyword: 'stop', language: 'en', count: 1 }] });
  expect(r.timeToHonour.ledger).toEqual({ count: 1, p50: 1.5, p95: 1.5, p99: 1.5 });
  expect(r.timeToHonour.confirmation).toEqual({ count: 1, p50: 360, p95: 360, p99: 360, withinFiveMinutes: 0 });
  expect(r.answers).toEqual({ byMethod: { sms_reply: { confirmed: 1, declined: 0 } }, timeToAnswer: { sms: { count: 1, p50: 3600, p95: 3600, p99: 3600 } } });
});
