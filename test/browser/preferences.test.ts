import type { Browser } from 'playwright-core';
import { pageLinks } from '../../lib/page-links';
import { contactIdOf } from '../../store/models';
import { consentsOf, optInBySms } from '../harness/contact';
import { startTestStack, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { launchBrowser, newVisitor, screenshot } from './browser';

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'bpref' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const OPTOUT_TEMPLATE = 'HXacme0optout0confirmation0000003';
const OPTIN_TEMPLATE = 'HXacme0optin0request000000000001';

test('switch one category off, then unsubscribe from all: both recorded as web opt-outs', async () => {
  const phone = '+14155550151';
  await optInBySms(stack, phone, ['order_updates', 'offers']);
  const url = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactIdOf('acme', phone));
  const { page } = await newVisitor(browser);

  const opened = await page.goto(url);
  expect(opened?.status()).toBe(200);
  expect(opened?.headers()['cache-control']).toBe('no-store');
  await expect(page.locator('h1').textContent()).resolves.toBe('Your messages from Acme Outdoor Supplies');
  const toggle = (name: string) => page.getByRole('switch', { name });
  expect(await toggle('Order updates').isChecked()).toBe(true);
  expect(await toggle('Offers and promotions').isChecked()).toBe(true);
  expect(await toggle('Product recommendations').isChecked()).toBe(false);
  await screenshot(page, 'preferences');

  await toggle('Offers and promotions').uncheck();
  await page.getByRole('button', { name: 'Save my choices' }).click();
  await expect(page.locator('h1').textContent()).resolves.toBe('Your choices are saved');
  expect(await page.locator('body').innerText()).toContain('Switched off: Offers and promotions. You will not receive these any more.');

  const afterSave = await consentsOf(stack, phone);
  expect(afterSave.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', recommendations: 'none' });
  expect(afterSave.messaging).toBe('allowed');
  const offOffers = afterSave.events.find((e) => e.type === 'opted_out' && e.category === 'offers');
  expect(offOffers.proof).toMatchObject({ channel: 'web', method: 'preferences_page', allCategories: false, inbound: { ip: '127.0.0.1', form: { action: 'save', on: ['order_updates'] } } });
  expect(offOffers.proof.inbound.shownText).toContain('[on] Offers and promotions');

  await page.getByRole('link', { name: 'Back to your choices' }).click();
  expect(await toggle('Order updates').isChecked()).toBe(true);
  expect(await toggle('Offers and promotions').isChecked()).toBe(false);

  await page.getByRole('button', { name: 'Unsubscribe from all' }).click();
  expect(await page.locator('body').innerText()).toContain('You are unsubscribed from all messages from Acme Outdoor Supplies, on every channel.');
  const afterAll = await consentsOf(stack, phone);
  expect(afterAll.byCategory).toEqual({ order_updates: 'opted_out', offers: 'opted_out', recommendations: 'opted_out' });
  expect(afterAll.messaging).toBe('opted_out');
  const allEvents = afterAll.events.filter((e) => e.type === 'opted_out' && e.proof.allCategories);
  expect(allEvents.map((e) => e.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  expect(allEvents.every((e) => e.proof.channel === 'web')).toBe(true);
  // The page itself is the confirmation: no opt-out message goes out on top of it.
  expect(stack.carrier.messages({ contact: phone }).filter((m) => m.contentSid === OPTOUT_TEMPLATE)).toHaveLength(0);

  await page.goto(url);
  expect(await page.locator('.notice').innerText()).toContain('You are unsubscribed from all messages from Acme Outdoor Supplies');
  expect(await toggle('Order updates').isChecked()).toBe(false);
});

test('switching a category on asks for confirmation on WhatsApp; Yes there switches it on', async () => {
  const phone = '+14155550152';
  await optInBySms(stack, phone, ['order_updates']);
  const { page } = await newVisitor(browser);
  await page.goto(pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactIdOf('acme', phone)));

  await page.getByRole('switch', { name: 'Product recommendations' }).check();
  await page.getByRole('button', { name: 'Save my choices' }).click();
  expect(await page.locator('body').innerText()).toContain('Almost done: Product recommendations. We sent you a WhatsApp message; tap Yes there to switch these on.');
  expect((await consentsOf(stack, phone)).byCategory.recommendations).toBe('none');

  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` }).find((m) => m.contentSid === OPTIN_TEMPLATE), 10_000);
  expect(request.renderedText).toContain('Product recommendations');
  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: 'whatsapp:+15005550007', buttonPayload: 'yes', buttonText: 'Yes' });
  const byCategory = await eventually('recommendations to be switched on', async () => {
    const now = (await consentsOf(stack, phone)).byCategory;
    return now.recommendations === 'opted_in' && now;
  });
  expect(byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'opted_in' });
});
