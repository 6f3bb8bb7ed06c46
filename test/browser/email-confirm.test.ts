import type { Browser } from 'playwright-core';
import { createPageToken } from '../../lib/tokens';
import { contactIdOf } from '../../store/models';
import { consentsOf } from '../harness/contact';
import { startTestStack, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { journeyOf } from '../harness/stack-queries';
import { sleep } from '../harness/wait';
import { launchBrowser, newVisitor, screenshot } from './browser';

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ prefix: 'bconf' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const ALL = ['order_updates', 'offers', 'recommendations'];

async function startEmailJourney(phone: string, email: string) {
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone, email }, categories: ALL, plan: [{ channel: 'email', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 10_000);
  const link = mail.links.find((l) => l.startsWith(`${stack.apiUrl}/c/`));
  if (!link) throw new Error(`no confirmation link in the e-mail: ${mail.links.join(' ')}`);
  return { journeyId: start.body.journeyId as string, link };
}

test('confirm in a browser: narrowed categories are recorded with the form post as proof; the link is single-use', async () => {
  const phone = '+14155550141';
  const { journeyId, link } = await startEmailJourney(phone, 'ana@example.com');

  // A mail scanner fetches the link before the person does: that must change nothing.
  const scanned = await fetch(link, { headers: { 'user-agent': 'MailScanner/1.0' } });
  expect(scanned.status).toBe(200);
  expect(scanned.headers.get('cache-control')).toBe('no-store');
  await sleep(300);
  const afterScan = await journeyOf(stack, journeyId);
  expect(afterScan.status).toBe('active');
  expect(afterScan.events.map((e: any) => e.kind)).not.toContain('email_form');

  const { page } = await newVisitor(browser);
  const opened = await page.goto(link);
  expect(opened?.status()).toBe(200);
  const userAgent = await opened!.request().headerValue('user-agent');
  await expect(page.locator('h1').textContent()).resolves.toBe('Acme Outdoor Supplies on WhatsApp');
  const body = await page.locator('body').innerText();
  expect(body).toContain('Acme Outdoor Supplies would like to send you messages on WhatsApp');
  for (const label of ['Order updates', 'Offers and promotions', 'Product recommendations']) {
    expect(await page.getByLabel(label).isChecked()).toBe(true);
  }
  await screenshot(page, 'email-confirm');

  await page.getByLabel('Offers and promotions').uncheck();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.locator('h1').textContent()).resolves.toBe('Thank you');
  expect(await page.locator('body').innerText()).toContain('You will receive Order updates, Product recommendations from Acme Outdoor Supplies on WhatsApp');

  expect((await journeyOf(stack, journeyId, 'confirmed')).status).toBe('confirmed');
  const { byCategory, events } = await consentsOf(stack, phone);
  expect(byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'opted_in' });
  const optIn = events.find((e) => e.type === 'opted_in' && e.category === 'order_updates');
  expect(optIn.proof).toMatchObject({ method: 'email_form', channel: 'email', businessName: 'Acme Outdoor Supplies', confirmedCategories: ['order_updates', 'recommendations'] });
  expect(optIn.proof.inbound).toMatchObject({ ip: '127.0.0.1', userAgent, form: { decision: 'confirm', categories: ['order_updates', 'recommendations'] } });
  expect(userAgent).toMatch(/Chrome/);
  expect(optIn.proof.inbound.shownText).toContain('[x] Offers and promotions');

  const again = await page.goto(link);
  expect(again?.status()).toBe(410);
  expect(await page.locator('body').innerText()).toContain('You already answered, or the request expired');

  const [body64, signature] = new URL(link).pathname.slice(3).split('.');
  const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  const tampered = await page.goto(`${stack.apiUrl}/c/${body64}.${flipped}`);
  expect(tampered?.status()).toBe(403);
  await expect(page.locator('h1').textContent()).resolves.toBe('This link is not valid');

  const expiredToken = createPageToken(TEST_PAGE_SECRET, { p: 'confirm', b: 'acme', c: contactIdOf('acme', phone), j: journeyId, cats: ALL, exp: Math.floor(Date.now() / 1000) - 60 });
  const expired = await page.goto(`${stack.apiUrl}/c/${expiredToken}`);
  expect(expired?.status()).toBe(410);
  await expect(page.locator('h1').textContent()).resolves.toBe('This link has expired');
});

test('decline in a browser; confirming with nothing ticked asks again instead of deciding', async () => {
  const phone = '+14155550142';
  const { journeyId, link } = await startEmailJourney(phone, 'ben@example.com');
  const { page } = await newVisitor(browser);
  await page.goto(link);

  for (const label of ['Order updates', 'Offers and promotions', 'Product recommendations']) await page.getByLabel(label).uncheck();
  const [slip] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Confirm' }).click()]);
  expect(slip.status()).toBe(400);
  expect(await page.getByRole('alert').innerText()).toContain('Tick at least one kind of message to confirm, or press Decline');
  expect((await journeyOf(stack, journeyId)).status).toBe('active');

  await page.getByRole('button', { name: 'Decline' }).click();
  expect(await page.locator('body').innerText()).toContain('Acme Outdoor Supplies will not send you WhatsApp messages');
  expect((await journeyOf(stack, journeyId, 'declined')).status).toBe('declined');
  const { byCategory, events } = await consentsOf(stack, phone);
  expect(byCategory).toEqual({ order_updates: 'none', offers: 'none', recommendations: 'none' });
  const declined = events.find((e) => e.type === 'declined');
  expect(declined.proof).toMatchObject({ method: 'email_form', channel: 'email', inbound: { ip: '127.0.0.1', form: { decision: 'decline' } } });
  expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(0);
});
