import { createConsentReport } from '../../domain/consent-report';
import { bucketStart, bucketStarts, durationStats, shareWithin } from '../../domain/report-stats';

test('nearest-rank percentiles in seconds; none is null', () => {
  const ms = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
  expect(durationStats(ms)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99 });
  expect(durationStats([250])).toEqual({ count: 1, p50: 0.25, p95: 0.25, p99: 0.25 });
  expect(durationStats([])).toEqual({ count: 0, p50: null, p95: null, p99: null });
  expect(shareWithin([1, 2, 3, 400], 3)).toBe(0.75);
  expect(shareWithin([], 3)).toBeNull();
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
