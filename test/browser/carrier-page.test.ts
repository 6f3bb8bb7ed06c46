import type { Browser } from 'playwright-core';
import { consentsOf } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { journeyOf } from '../harness/stack-queries';
import { launchBrowser, newVisitor, screenshot } from './browser';

/** A new user tries journeys by hand on the carrier's page: reply by SMS, press a key in the call. */
let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'carrierpage' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

test('reply YES from the carrier page confirms an SMS journey', async () => {
  const phone = '+14155550701';
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);

  const { context, page } = await newVisitor(browser);
  await page.goto(stack.carrier.httpUrl);
  const contact = page.locator('section').filter({ has: page.locator('h2', { hasText: phone }) });
  await contact.getByText('Acme Outdoor Supplies: may we send you Offers and promotions on WhatsApp?').waitFor({ state: 'visible', timeout: 5000 });
  await contact.locator('input[name="body"]').fill('yes');
  await contact.getByRole('button', { name: 'Send' }).click();

  expect((await journeyOf(stack, start.body.journeyId, 'confirmed')).status).toBe('confirmed');
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 10_000);
  await page.goto(stack.carrier.httpUrl);
  await page.locator('section').filter({ has: page.locator('h2', { hasText: phone }) }).getByText("You're subscribed to Offers and promotions from Acme Outdoor Supplies on WhatsApp").waitFor({ state: 'visible', timeout: 5000 });
  await screenshot(page, 'carrier-page');
  await context.close();
  expect((await consentsOf(stack, phone)).byCategory.offers).toBe('opted_in');
});

test('pressing 1 on the carrier page keypad confirms an IVR journey', async () => {
  const phone = '+14155550702';
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'ivr', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), 10_000);

  const { context, page } = await newVisitor(browser);
  await page.goto(stack.carrier.httpUrl);
  const contact = page.locator('section').filter({ has: page.locator('h2', { hasText: phone }) });
  await contact.getByText('Press 1 to receive WhatsApp messages').waitFor({ state: 'visible', timeout: 5000 });
  await contact.getByRole('button', { name: '1', exact: true }).click();
  await context.close();

  expect((await journeyOf(stack, start.body.journeyId, 'confirmed')).status).toBe('confirmed');
  const consent = await consentsOf(stack, phone);
  expect(consent.byCategory.order_updates).toBe('opted_in');
  expect(consent.events.find((e: any) => e.type === 'opted_in').proof).toMatchObject({ method: 'ivr_keypress', channel: 'ivr' });
});
