import type { Browser, Page } from 'playwright-core';
import { runCli, type CliIo } from '../../cli/main';
import { SEEDED, seedReportSet } from '../harness/report-seed';
import { startTestStack, type TestStack } from '../harness/stack';
import { launchBrowser, newVisitor, screenshot } from './browser';

/**
 * The report page in Chromium (no JavaScript) over a hand-counted set: it renders its SVG charts, and
 * every figure on it equals GET /v1/reports/consent for the same window, as does `optinflow report`.
 */

jest.setTimeout(90_000);

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'breport', worker: false }), launchBrowser()]);
  await seedReportSet(stack.store, 'acme');
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)}%`);
const secs = (s: number | null) => (s === null ? '–' : `${s} s`);

async function figures(page: Page): Promise<Record<string, string>> {
  const pairs = await page.locator('[data-figure]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-figure'), e.textContent]));
  return Object.fromEntries(pairs as [string, string][]);
}

test('the page, opened from a signed link, shows charts and the API figures', async () => {
  const link = await stack.request('GET', '/v1/reports/link?businessId=acme&validForMinutes=5');
  expect(link.status).toBe(200);
  expect(new URL(link.body.url).pathname).toBe('/reports/acme');

  const { page } = await newVisitor(browser, { viewport: { width: 1280, height: 900 } });
  const opened = await page.goto(link.body.url);
  expect(opened?.status()).toBe(200);
  expect(opened?.headers()['cache-control']).toBe('no-store');
  await expect(page.locator('h1').textContent()).resolves.toBe('Consent report: Acme Outdoor Supplies');
  await screenshot(page, 'report');

  const shown = await figures(page);
  const window = `businessId=acme&from=${encodeURIComponent(shown.from)}&to=${encodeURIComponent(shown.to)}`;
  const [byChannel, byMethod] = await Promise.all([stack.request('GET', `/v1/reports/consent?${window}&groupBy=channel`), stack.request('GET', `/v1/reports/consent?${window}&groupBy=method`)]);
  const r = byChannel.body;
  expect(r.journeys.started).toBe(SEEDED.journeys);
  expect(r.optOuts.total).toBe(SEEDED.optOuts);

  const expected: Record<string, string> = {
    'journeys.optInRate': pct(r.journeys.optInRate),
    'kpi.started': String(SEEDED.journeys),
    'optOuts.total': String(SEEDED.optOuts),
    'messages.sent': String(SEEDED.messagesSent),
    'messages.optOutRate': pct(r.messages.optOutRate),
    'timeToHonour.confirmation.withinFiveMinutes': pct(r.timeToHonour.confirmation.withinFiveMinutes),
  };
  for (const k of ['started', 'confirmed', 'declined', 'expired', 'optedOut', 'cancelled', 'active']) expected[`journeys.${k}`] = String(r.journeys[k]);
  for (const g of r.groups) Object.assign(expected, { [`channel.${g.key}.started`]: String(g.started), [`channel.${g.key}.optInRate`]: pct(g.optInRate) });
  for (const g of byMethod.body.groups) Object.assign(expected, { [`method.${g.key}.started`]: String(g.started), [`method.${g.key}.confirmed`]: String(g.confirmed) });
  for (const [source, n] of Object.entries(r.optOuts.bySource)) expected[`optOuts.bySource.${source}`] = String(n);
  for (const which of ['ledger', 'confirmation']) for (const p of ['p50', 'p95', 'p99']) expected[`timeToHonour.${which}.${p}`] = secs(r.timeToHonour[which][p]);
  expect(Object.fromEntries(Object.keys(expected).map((k) => [k, shown[k]]))).toEqual(expected);

  // The hand count, as the page states it.
  expect(shown['optOuts.bySource.keyword']).toBe('3');
  expect(shown['channel.sms.optInRate']).toBe('66.7%');
  expect(shown['timeToHonour.confirmation.count']).toBe('4');
  expect(shown['messages.optOutRate']).toBe('50.0%');

  // Real charts: bars for the funnel and the groups, columns for the opt-outs per day.
  expect(await page.locator('svg[role="img"]').count()).toBe(5);
  expect(await page.locator('svg[aria-label="Opt-outs per day by source"] rect').count()).toBeGreaterThanOrEqual(4);
  expect(await page.locator('svg[aria-label="Journeys by outcome"] title').allTextContents()).toContain('confirmed: 4');
});

test('without a key or with a forged link the page is refused; no page for an unknown business', async () => {
  const plain = await fetch(`${stack.apiUrl}/reports/acme`);
  expect(plain.status).toBe(401);
  const link = (await stack.request('GET', '/v1/reports/link?businessId=acme')).body.url as string;
  const forged = link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  expect((await fetch(forged)).status).toBe(401);
  expect((await fetch(link.replace('/reports/acme', '/reports/nobody'))).status).toBe(404);
  expect((await stack.request('GET', '/v1/reports/link?businessId=nobody')).body.issues[0]).toMatchObject({ field: 'businessId' });
  const withKey = await fetch(`${stack.apiUrl}/reports/acme`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect(withKey.status).toBe(200);
  expect((await stack.request('GET', '/v1/reports/link?businessId=acme&validForMinutes=100000')).body.issues[0]).toMatchObject({ field: 'validForMinutes' });
});

test('`optinflow report --since 30d` prints the figures the page shows', async () => {
  const out: string[] = [];
  const io: CliIo = { out: (s) => out.push(s), err: () => undefined, env: {}, interactive: false };
  const target = ['--api-url', stack.apiUrl, '--api-key', stack.apiKey];
  expect(await runCli(['report', '--business', 'acme', '--since', '30d', '--json', ...target], io)).toBe(0);
  const cli = JSON.parse(out.join('\n'));
  const { page } = await newVisitor(browser);
  await page.setExtraHTTPHeaders({ authorization: `Bearer ${stack.apiKey}` });
  await page.goto(`${stack.apiUrl}/reports/acme`);
  const shown = await figures(page);
  expect(shown.from).toBe(cli.from);
  expect([shown['kpi.started'], shown['optOuts.total'], shown['journeys.optInRate']]).toEqual([String(cli.journeys.started), String(cli.optOuts.total), pct(cli.journeys.optInRate)]);

  out.length = 0;
  expect(await runCli(['report', '--business', 'acme', '--link', '--json', ...target], io)).toBe(0);
  const linked = await fetch(JSON.parse(out.join('\n')).url);
  expect(linked.status).toBe(200);
});
