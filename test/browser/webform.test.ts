import type { Browser } from 'playwright-core';
import { contactIdOf } from '../../store/models';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';
import { launchBrowser, newVisitor, screenshot } from './browser';

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'bform' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const OPTIN_TEMPLATE = 'HXacme0optin0request000000000001';

test('the sign-up form starts a WhatsApp double opt-in for the ticked categories', async () => {
  const { page } = await newVisitor(browser, { viewport: { width: 390, height: 844 } });
  const opened = await page.goto(`${stack.apiUrl}/b/acme/optin`);
  expect(opened?.status()).toBe(200);
  await expect(page.locator('h1').textContent()).resolves.toBe('Get messages from Acme Outdoor Supplies on WhatsApp');
  for (const label of ['Order updates', 'Offers and promotions', 'Product recommendations']) expect(await page.getByLabel(label).isChecked()).toBe(false);
  expect(await page.getByLabel('WhatsApp', { exact: true }).isChecked()).toBe(true);
  await screenshot(page, 'webform');

  await page.getByLabel('Mobile number').fill('+1 415 555 0161');
  await page.getByLabel('Offers and promotions').check();
  await page.getByLabel('Product recommendations').check();
  await page.getByRole('button', { name: 'Send me the confirmation message' }).click();
  await expect(page.locator('h1').textContent()).resolves.toBe('Check your phone');
  expect(await page.locator('body').innerText()).toContain('a WhatsApp message from Acme Outdoor Supplies is on its way');

  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: 'whatsapp:+14155550161' })[0], 10_000);
  expect(request.contentSid).toBe(OPTIN_TEMPLATE);
  expect(request.renderedText).toContain('Offers and promotions');
  const journey = await stack.store.journeys.findOne({ contactId: contactIdOf('acme', '+14155550161') }).lean();
  expect(journey).toMatchObject({ categories: ['offers', 'recommendations'], source: { kind: 'web_form' } });
  expect(journey?.source.reference).toMatch(/^webform\./);
});

test('a filled honeypot is refused and starts nothing; a bad number shows the form again with the rule', async () => {
  const { page } = await newVisitor(browser);
  await page.goto(`${stack.apiUrl}/b/acme/optin`);
  await page.getByLabel('Mobile number').fill('+14155550162');
  await page.getByLabel('Order updates').check();
  await page.locator('input[name=website]').fill('http://spam.example', { force: true });
  const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Send me the confirmation message' }).click()]);
  expect(refused.status()).toBe(400);
  await expect(page.locator('h1').textContent()).resolves.toBe('Your sign-up was not accepted');

  await page.goto(`${stack.apiUrl}/b/acme/optin`);
  await page.getByLabel('Mobile number').fill('0415 <b>555</b>');
  await page.getByLabel('Order updates').check();
  const [invalid] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Send me the confirmation message' }).click()]);
  expect(invalid.status()).toBe(400);
  expect(await page.getByRole('alert').innerText()).toBe('Mobile number may contain only digits, spaces, +, -, ( and ).');
  expect(await page.getByLabel('Mobile number').inputValue()).toBe('0415 <b>555</b>');
  expect(await page.getByLabel('Order updates').isChecked()).toBe(true);

  await sleep(500);
  expect(stack.carrier.messages({ contact: '+14155550162' })).toHaveLength(0);
  expect(await stack.store.journeys.countDocuments({ contactId: contactIdOf('acme', '+14155550162') })).toBe(0);
});
