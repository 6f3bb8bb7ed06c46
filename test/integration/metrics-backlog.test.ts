import { startTestStack, type TestStack } from '../harness/stack';

/**
 * The outbox backlog and sweep lag on the API's /metrics: sends left claimed or ambiguous for more
 * than a minute are counted by status, fresh or finished ones are not; every sweep has a lag.
 */

jest.setTimeout(60_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'mbacklog', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${stack.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) series.set(m[1], Number(m[2]));
  }
  return series;
}

const row = (id: string, status: string, fields: Record<string, unknown>) => ({ _id: id, businessId: 'acme', contactId: 'c_backlog', channel: 'sms', purpose: 'optin_request', to: '+14155550100', status, attempts: 1, ...fields });

test('claimed and ambiguous sends older than a minute are the outbox backlog', async () => {
  const before = await scrape();
  expect(before.get('optinflow_outbox_backlog{status="claimed"}')).toBe(0);
  expect(before.get('optinflow_outbox_backlog{status="ambiguous"}')).toBe(0);

  const ago = (s: number) => new Date(Date.now() - s * 1000);
  await stack.store.connection.collection('outbox').insertMany([
    row('backlog/1', 'claimed', { claimedAt: ago(300) }),
    row('backlog/2', 'claimed', { claimedAt: ago(90) }),
    row('backlog/3', 'claimed', { claimedAt: ago(5) }),
    row('backlog/4', 'ambiguous', { claimedAt: ago(900), ambiguousAt: ago(600) }),
    row('backlog/5', 'sent', { claimedAt: ago(900), sentAt: ago(899) }),
    row('backlog/6', 'released', { claimedAt: ago(900) }),
  ] as never[]);

  const after = await scrape();
  expect(after.get('optinflow_outbox_backlog{status="claimed"}')).toBe(2);
  expect(after.get('optinflow_outbox_backlog{status="ambiguous"}')).toBe(1);
});

test('every sweep has a lag, small right after it ran', async () => {
  const series = await scrape();
  for (const sweep of ['pending_optouts', 'pending_events', 'starting_campaigns', 'report_days']) {
    const lag = series.get(`optinflow_sweep_lag_seconds{sweep="${sweep}"}`);
    expect([sweep, typeof lag]).toEqual([sweep, 'number']);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(120);
  }
  expect(series.get('optinflow_sweep_runs_total{sweep="report_days"}')).toBe(0);
});
