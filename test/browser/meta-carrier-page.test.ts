import type { Browser } from 'playwright-core';
import { numberStateOf } from '../../store/whatsapp-numbers';
import { startTestStack, type TestStack } from '../harness/stack';
import { journeyOf } from '../harness/stack-queries';
import { eventually } from '../harness/wait';
import { launchBrowser, newVisitor, screenshot } from './browser';

/** A person drives the Meta side of the carrier page: taps a template's quick reply, stops marketing, lowers the number's quality. */
let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'metapage' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function bloomConsents(phone: string): Promise<Record<string, string>> {
  const r = await stack.request('GET', `/v1/consents?businessId=bloom&phone=${encodeURIComponent(phone)}`);
  return Object.fromEntries(r.body.categories.map((c: any) => [c.category, c.status]));
}

test('a Meta WhatsApp journey confirmed from the carrier page, then marketing stopped there', async () => {
  const phone = '+14155550731';
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'bloom', contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'whatsapp', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 15_000);

  const { context, page } = await newVisitor(browser);
  await page.goto(stack.carrier.httpUrl);
  const contact = () => page.locator('section').filter({ has: page.locator('h2', { hasText: phone }) });
  await contact().getByText('Meta template optin_request (en)').waitFor({ state: 'visible', timeout: 5000 });
  await contact().getByRole('button', { name: 'Yes', exact: true }).click();
  expect((await journeyOf(stack, start.body.journeyId, 'confirmed', 20_000)).status).toBe('confirmed');

  await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` }).find((m) => m.contentSid === 'optin_confirmation (en)'), 15_000);
  await page.goto(stack.carrier.httpUrl);
  await contact().getByText("You're subscribed to Order updates and Offers and promotions from Bloom Garden Centre on WhatsApp").waitFor({ state: 'visible', timeout: 5000 });
  await contact().getByRole('button', { name: 'Stop marketing' }).click();
  await page.getByText(`Stopped marketing messages as ${phone}: our webhook answered 200.`).waitFor({ state: 'visible', timeout: 10_000 });
  await eventually('the marketing categories to be opted out', async () => (await bloomConsents(phone)).offers === 'opted_out', 20_000);
  expect(await bloomConsents(phone)).toEqual({ order_updates: 'opted_in', offers: 'opted_out', newsletter: 'opted_out' });

  await page.locator('#meta-numbers').getByRole('button', { name: 'RED' }).click();
  await page.getByText('Number 106540352242922 is now RED: our webhook answered 200.').waitFor({ state: 'visible', timeout: 10_000 });
  expect(await numberStateOf(stack.store, 'bloom')).toMatchObject({ flagged: true, lastEvent: 'FLAGGED' });
  await screenshot(page, 'carrier-page-meta');
  await context.close();
});
