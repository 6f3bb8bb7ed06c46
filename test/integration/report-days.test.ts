import { refreshReportDays } from '../../services/report-days';
import { readFinalThrough, readReportDays } from '../../store/report-days';
import { SEEDED, seedReportSet } from '../harness/report-seed';
import { startTestStack, type TestStack } from '../harness/stack';

/**
 * The daily pre-aggregate against the live computation over the same hand-counted set: days the sweep
 * made final plus today give the same report, a second sweep counts nothing twice, and what happens
 * after a sweep shows once the next one ran (or at once with fresh=true).
 */

jest.setTimeout(90_000);

const DAY_MS = 86_400_000;
/**
 * One clock for the seed and both sweeps: which days are over, quiet and final depends on the hour,
 * so a run that crossed midnight between them would compare two different days.
 */
const NOW = Date.now();
let stack: TestStack;
let window: string;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'rdays', worker: false });
  await seedReportSet(stack.store, 'acme', NOW);
  // The API's own sweep waits a minute after start; this file runs the sweep itself, in its own order.
  expect(await stack.store.connection.collection('report_months').countDocuments()).toBe(0);
  const today = Math.floor(NOW / DAY_MS) * DAY_MS;
  window = `businessId=acme&from=${new Date(today - 30 * DAY_MS).toISOString().slice(0, 10)}&to=${new Date(today + DAY_MS).toISOString().slice(0, 10)}`;
});

afterAll(async () => {
  await stack?.close();
});

const report = async (query: string) => {
  const r = await stack.request('GET', `/v1/reports/consent?${window}&${query}`);
  expect(r.status).toBe(200);
  return r.body;
};
/** The figures, without when and how they were computed. */
const figures = ({ generatedAt: _g, tookMs: _t, asOf: _a, computedFrom: _c, ...rest }: any) => rest;
const acme = () => stack.businesses.get('acme')!;

test('before any sweep the report is live; after one it comes from the days with the same figures', async () => {
  const before = await report('groupBy=channel');
  expect(before.computedFrom).toBe('live');
  expect(before.journeys.started).toBe(SEEDED.journeys);

  const first = await refreshReportDays(stack, acme(), NOW);
  expect(first.computed).toBe(366);
  for (const query of ['groupBy=channel', 'groupBy=method', 'groupBy=category&interval=week', 'groupBy=campaign']) {
    const [daily, live] = await Promise.all([report(query), report(`${query}&fresh=true`)]);
    expect([query, daily.computedFrom, live.computedFrom]).toEqual([query, 'daily', 'live']);
    expect(figures(daily)).toEqual(figures(live));
  }
  const daily = await report('groupBy=channel');
  expect(daily.optOuts.total).toBe(SEEDED.optOuts);
  expect(daily.optOuts.bySource).toEqual(SEEDED.bySource);
  expect(daily.timeToHonour.confirmation).toMatchObject({ count: 4, withinFiveMinutes: 0.75 });
});

test('days become final once over and quiet; a second sweep recomputes only the open ones and counts nothing twice', async () => {
  const now = NOW;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  // Two seeded journeys are still running: the mark stops the day before the older one started.
  const running = await stack.store.journeys.find({ businessId: 'acme', status: 'active' }).lean();
  expect(running).toHaveLength(SEEDED.active);
  const firstOpen = Math.floor(Math.min(...running.map((j) => j.startedAt!.getTime())) / DAY_MS) * DAY_MS;
  expect(await readFinalThrough(stack.store, 'acme')).toBe(firstOpen - DAY_MS);
  // Open: every day since the first running journey's that the first sweep did not make final. Which
  // of those are over and quiet depends on the hour the seed ran; the running journey's day and today never are.
  const since = Array.from({ length: (today - firstOpen) / DAY_MS + 1 }, (_, i) => firstOpen + i * DAY_MS);
  const storedBefore = await readReportDays(stack.store, 'acme', since);
  const open = since.filter((t) => !storedBefore.get(t)?.settled);
  expect(open).toEqual(expect.arrayContaining([firstOpen, today]));
  const again = await refreshReportDays(stack, acme(), now);
  expect(again.computed).toBe(open.length);
  expect(again.final).toBe(0);
  expect(figures(await report('groupBy=channel'))).toEqual(figures(await report('groupBy=channel&fresh=true')));
  // A year of quiet final days costs no entries: only the seeded days and the days since have one.
  const months = await stack.store.connection.collection('report_months').find({ businessId: 'acme' }).toArray();
  const stored = months.flatMap((m) => Object.keys(m.days));
  expect(stored.length).toBeGreaterThan(0);
  expect(stored.filter((d) => Date.parse(d) < today - 10 * DAY_MS)).toEqual([]);
  expect(months.length).toBeLessThanOrEqual(2);
});

test('an opt-out after the sweep shows after the next sweep, and at once with fresh=true', async () => {
  const at = new Date();
  const proof = { optOutId: 'optout.late', method: 'ivr_keypress', channel: 'ivr', receivedAt: at.toISOString(), recordedAt: new Date(at.getTime() + 700).toISOString(), allCategories: true };
  await stack.store.connection.collection('consent_events').insertOne({ _id: 'optout.late:offers:opted_out', businessId: 'acme', contactId: 'c_late', phone: '+14155550100', category: 'offers', type: 'opted_out', at, proof } as never);

  const stale = await report('groupBy=channel');
  expect([stale.computedFrom, stale.optOuts.total]).toEqual(['daily', SEEDED.optOuts]);
  expect(Date.parse(stale.asOf)).toBeLessThan(at.getTime());
  expect((await report('groupBy=channel&fresh=true')).optOuts.total).toBe(SEEDED.optOuts + 1);

  await refreshReportDays(stack, acme());
  const current = await report('groupBy=channel');
  expect([current.computedFrom, current.optOuts.total, current.optOuts.bySource.ivr_keypress]).toEqual(['daily', SEEDED.optOuts + 1, 1]);
  expect(figures(current)).toEqual(figures(await report('groupBy=channel&fresh=true')));
});

test('a window that does not start at midnight UTC is computed live', async () => {
  const r = await stack.request('GET', `/v1/reports/consent?businessId=acme&from=${new Date(Date.now() - 3 * DAY_MS).toISOString()}`);
  expect(r.body.computedFrom).toBe('live');
  expect((await stack.request('GET', '/v1/reports/consent?businessId=acme&fresh=maybe')).body.issues[0]).toMatchObject({ field: 'fresh' });
});
