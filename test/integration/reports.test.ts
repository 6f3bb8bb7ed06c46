import { runCli, type CliIo } from '../../cli/main';
import { EXIT } from '../../cli/client';
import { numberedPhones, waitForConsents } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';

/**
 * GET /v1/reports/consent over a hand-counted set of journeys and opt-outs: a confirmation by SMS, a
 * decline on WhatsApp, a STOP during a journey, an expiry, a Spanish keyword with no journey and an
 * agent's opt-out through the API. Every number is checked exactly.
 */

jest.setTimeout(120_000);

const ACME_SMS = '+15005550006';
const ACME_WA = 'whatsapp:+15005550007';
const phoneNo = numberedPhones(500);

let stack: TestStack;
let windowFrom: string;
let windowTo: string;

const outbound = (phone: string) => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');
const report = (query: string) => stack.request('GET', `/v1/reports/consent?${query}`);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'reports' });
  windowFrom = new Date(Date.now() - 60_000).toISOString();
  const [confirming, declining, stopping, silent, spanish, agentAsked] = [1, 2, 3, 4, 5, 6].map(phoneNo);
  const sms = [{ channel: 'sms', waitFor: '60s' }];

  const confirmed = await startJourney(stack, { contact: { phone: confirming }, categories: ['offers', 'order_updates'], plan: sms });
  const declined = await startJourney(stack, { contact: { phone: declining }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '60s' }] });
  const stopped = await startJourney(stack, { contact: { phone: stopping }, categories: ['offers'], plan: sms });
  const expired = await startJourney(stack, { contact: { phone: silent }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '1s' }], source: { kind: 'cli' } });
  await stack.carrier.waitFor(() => outbound(confirming)[0] && outbound(declining)[0] && outbound(stopping)[0], 15_000);

  await stack.carrier.sendInbound({ from: confirming, to: ACME_SMS, body: 'YES' });
  await stack.carrier.sendInbound({ from: `whatsapp:${declining}`, to: ACME_WA, body: 'NO' });
  await stack.carrier.sendInbound({ from: stopping, to: ACME_SMS, body: 'STOP' });
  await stack.carrier.sendInbound({ from: `whatsapp:${spanish}`, to: ACME_WA, body: 'BAJA' });
  const byAgent = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone: agentAsked, reason: 'asked the agent', source: { kind: 'agent', reference: 'ticket-7' }, requestId: `report-${agentAsked.slice(1)}` });
  expect(byAgent.status).toBe(202);

  await waitForJourneyStatus(stack, confirmed, 'confirmed', 30_000);
  await waitForJourneyStatus(stack, declined, 'declined', 30_000);
  await waitForJourneyStatus(stack, stopped, 'opted_out', 30_000);
  await waitForJourneyStatus(stack, expired, 'expired', 30_000);
  for (const phone of [stopping, spanish, agentAsked]) {
    await waitForConsents(stack, phone, (c) => c.events.filter((e: any) => e.type === 'opted_out').length === 3, 20_000);
  }
  // The two keyword opt-outs confirm on their own channel; the agent's has no thread to answer in.
  await stack.carrier.waitFor(() => outbound(stopping).find((m) => m.renderedText.includes('you are unsubscribed')) && outbound(spanish)[0], 15_000);
  await stack.carrier.waitFor(async () => (await stack.store.outbox.countDocuments({ purpose: 'optout_confirmation', status: 'sent' })) === 2, 15_000);
  windowTo = new Date(Date.now() + 60_000).toISOString();
});

afterAll(async () => {
  await stack?.close();
});

test('the funnel, opt-outs by source and keyword, time to honour and time to answer equal the hand count', async () => {
  const r = await report(`businessId=acme&from=${windowFrom}&to=${windowTo}&groupBy=channel`);
  expect(r.status).toBe(200);
  const body = r.body;
  expect(body.journeys).toEqual({ started: 4, active: 0, confirmed: 1, declined: 1, expired: 1, optedOut: 1, cancelled: 0, optInRate: 0.25 });
  expect(body.groups).toEqual([
    { key: 'sms', started: 3, active: 0, confirmed: 1, declined: 0, expired: 1, optedOut: 1, cancelled: 0, optInRate: 0.3333 },
    { key: 'whatsapp', started: 1, active: 0, confirmed: 0, declined: 1, expired: 0, optedOut: 0, cancelled: 0, optInRate: 0 },
  ]);

  expect(body.optOuts).toEqual({
    total: 3,
    bySource: { keyword: 2, agent: 1 },
    byChannel: { sms: 1, whatsapp: 1, agent: 1 },
    byCategory: { offers: 3, order_updates: 3, recommendations: 3 },
    byKeyword: [
      { keyword: 'baja', language: 'es', count: 1 },
      { keyword: 'stop', language: 'en', count: 1 },
    ],
  });
  expect(body.timeToHonour.ledger.count).toBe(3);
  expect(body.timeToHonour.ledger.p99).toBeLessThan(30);
  expect(body.timeToHonour.confirmation).toMatchObject({ count: 2, withinFiveMinutes: 1 });
  expect(body.timeToHonour.confirmation.p50).toBeGreaterThanOrEqual(0);
  expect(body.timeToHonour.confirmation.p50).toBeLessThanOrEqual(body.timeToHonour.confirmation.p95);

  expect(body.answers.byMethod).toEqual({ sms_reply: { confirmed: 1, declined: 0 }, whatsapp_reply: { confirmed: 0, declined: 1 } });
  expect(Object.keys(body.answers.timeToAnswer)).toEqual(['sms', 'whatsapp']);
  expect(body.answers.timeToAnswer.sms.count).toBe(1);
  expect(body.answers.timeToAnswer.whatsapp.count).toBe(1);

  const sum = (f: (b: any) => number) => body.series.reduce((a: number, b: any) => a + f(b), 0);
  expect(sum((b) => b.journeys.started)).toBe(4);
  expect(sum((b) => b.journeys.confirmed)).toBe(1);
  expect(sum((b) => b.optOuts)).toBe(3);
  expect(sum((b) => b.optOutsBySource.keyword ?? 0)).toBe(2);
  expect(JSON.stringify(body)).not.toContain(phoneNo(1));
});

test('groupBy category and method regroup the same journeys; a week interval starts on Monday', async () => {
  const byCategory = await report(`businessId=acme&from=${windowFrom}&to=${windowTo}&groupBy=category&interval=week`);
  expect(byCategory.status).toBe(200);
  expect(byCategory.body.groups.map((g: any) => [g.key, g.started, g.confirmed])).toEqual([
    ['offers', 4, 1],
    ['order_updates', 1, 1],
  ]);
  for (const bucket of byCategory.body.series) expect(new Date(bucket.start).getUTCDay()).toBe(1);

  const byMethod = await report(`businessId=acme&from=${windowFrom}&to=${windowTo}&groupBy=method`);
  expect(byMethod.body.groups.map((g: any) => [g.key, g.started, g.expired])).toEqual([
    ['api', 3, 0],
    ['cli', 1, 1],
  ]);
  const byCampaign = await report(`businessId=acme&from=${windowFrom}&to=${windowTo}&groupBy=campaign`);
  expect(byCampaign.body.groups.map((g: any) => [g.key, g.started])).toEqual([['none', 4]]);
});

test('a window before any of it is empty, one row per day', async () => {
  const r = await report('businessId=acme&from=2020-01-01&to=2020-01-31');
  expect(r.status).toBe(200);
  expect(r.body.journeys.started).toBe(0);
  expect(r.body.optOuts.total).toBe(0);
  expect(r.body.timeToHonour.confirmation).toEqual({ count: 0, p50: null, p95: null, p99: null, withinFiveMinutes: null });
  expect(r.body.series).toHaveLength(30);
  expect(r.body.series[0].start).toBe('2020-01-01T00:00:00.000Z');
});

test.each([
  ['interval=month', 'interval'],
  ['from=yesterday', 'from'],
  ['from=2025-02-01&to=2025-01-01', 'from'],
  ['from=2023-01-01&to=2025-01-01', 'from'],
  ['groupBy=phone', 'groupBy'],
])('%s is a 400 naming %s', async (query, field) => {
  const r = await report(`businessId=acme&${query}`);
  expect(r.status).toBe(400);
  expect(r.body.issues.map((i: any) => i.field)).toEqual([field]);
});

test('an unknown or missing business is a 400 naming businessId; no key is a 401', async () => {
  for (const query of ['businessId=nope', 'interval=day']) {
    const r = await report(query);
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i: any) => i.field)).toEqual(['businessId']);
  }
  expect((await fetch(`${stack.apiUrl}/v1/reports/consent?businessId=acme`)).status).toBe(401);
});

async function optinflow(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false };
  const code = await runCli([...args, '--api-url', stack.apiUrl, '--api-key', stack.apiKey], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('optinflow report prints the same numbers as tables, and the API answer with --json', async () => {
  const r = await optinflow(['report', '--business', 'acme', '--since', '10m']);
  expect(r.code).toBe(EXIT.ok);
  expect(r.out).toMatch(/^all +4 +1 +1 +1 +1 +0 +0 +25\.0%$/m);
  expect(r.out).toMatch(/^ {2}channel sms +3 +1 +0 +1 +1 +0 +0 +33\.3%$/m);
  expect(r.out).toContain('Opt-outs: 3');
  expect(r.out).toMatch(/^ {2}keyword +2$/m);
  expect(r.out).toMatch(/^ {2}baja +es +1$/m);
  expect(r.out).toMatch(/^STOP to ledger +3 /m);
  expect(r.out).toMatch(/^STOP to confirmation sent +2 .* 100\.0%$/m);

  const json = await optinflow(['report', '--business', 'acme', '--since', '10m', '--group-by', 'category', '--json']);
  expect(json.code).toBe(EXIT.ok);
  const body = JSON.parse(json.out);
  expect(body.groupBy).toBe('category');
  expect(body.journeys).toMatchObject({ started: 4, confirmed: 1, optInRate: 0.25 });

  const bad = await optinflow(['report', '--business', 'acme', '--since', 'lately']);
  expect(bad.code).toBe(EXIT.usage);
  expect(bad.err).toContain('--since "lately"');
  const unknown = await optinflow(['report', '--business', 'nope']);
  expect(unknown.code).toBe(EXIT.rejected);
  expect(unknown.err).toContain('businessId');
});
