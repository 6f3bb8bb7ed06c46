import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../harness/stack';
import { launchBrowser, screenshot } from './browser';

/** The reference UI at /docs runs in Chromium under its CSP, from local files only, and lists the routes. */

jest.setTimeout(60_000);

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'bdocs', worker: false }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

test('/docs renders the OpenAPI document without reaching beyond the API', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  const blocked: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(stack.apiUrl) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') blocked.push(m.text());
  });
  expect((await page.goto(`${stack.apiUrl}/docs`))?.status()).toBe(200);
  await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 });
  expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('Optinflow API');
  await page.locator('.opblock-summary-path[data-path="/v1/reports/consent"]').waitFor();
  expect(await page.locator('.opblock-summary-path[data-path="/webhooks/twilio/messaging"]').count()).toBe(1);
  await screenshot(page, 'api-docs');
  expect(elsewhere).toEqual([]);
  expect(blocked.filter((t) => /Content Security Policy/i.test(t))).toEqual([]);
  await context.close();
});
