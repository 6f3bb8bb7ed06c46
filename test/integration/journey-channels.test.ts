import { BUTTON_PAYLOADS } from '../../domain/keywords';
import { consentsOf, numberedPhones, waitForWhatsappWindow } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';

/**
 * A contact confirms on each channel: SMS reply, WhatsApp button (template outside the 24-hour
 * window, session quick reply inside it), IVR key 1, and the e-mail page with narrowed categories.
 * Each test follows the journey from POST /v1/journeys through the carrier to GET /v1/consents.
 *
 * The tests run concurrently against one stack: each has its own contact, and asserts only on it.
 */

const phoneNo = numberedPhones(200);

const ACME = { sms: '+15005550006', whatsapp: '+15005550007', voice: '+15005550008' };
const TEMPLATE = { optinRequest: 'HXacme0optin0request000000000001', confirmation: 'HXacme0optin0confirmation00000002', quickReply: 'HXacme0session0quick0reply00000004' };

jest.setTimeout(60_000);

/** Generous waits: these files share two cores with the servers and other test files. */
const SLOW = 30_000;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jchan' });
});
afterAll(async () => {
  await stack?.close();
});

function waConfirmation(phone: string) {
  return stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` }).find((m) => m.contentSid === TEMPLATE.confirmation), SLOW);
}

test.concurrent('SMS: a localised YES (OUI) confirms every requested category', async () => {
  const phone = phoneNo(1);
  const journeyId = await startJourney(stack, { contact: { phone, locale: 'fr' }, categories: ['order_updates', 'recommendations'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], SLOW);
  expect(request.from).toBe(ACME.sms);
  expect(request.body).toContain('sur WhatsApp');

  await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'OUI' });
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.outcome.categories).toEqual(['order_updates', 'recommendations']);

  const confirmation = await waConfirmation(phone);
  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'opted_in' });
  const recommendations = consents.categories.find((c: any) => c.category === 'recommendations');
  expect(recommendations.confirmationMessageId).toBe(confirmation.sid);
  expect(recommendations.journeyId).toBe(journeyId);
});

test.concurrent('WhatsApp outside the 24-hour window: approved template, Yes button confirms', async () => {
  const phone = phoneNo(2);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '30s' }] });
  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], SLOW);
  expect(request.contentSid).toBe(TEMPLATE.optinRequest);
  expect(request.renderedText).toContain('Acme Outdoor Supplies');
  expect(request.renderedText).toContain('Offers and promotions on WhatsApp');
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0]?.status === 'delivered');

  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${ACME.whatsapp}`, buttonPayload: BUTTON_PAYLOADS.yes, buttonText: 'Yes' });
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.events.find((e: any) => e.kind === 'request:sent')).toMatchObject({ channel: 'whatsapp', detail: 'template', providerId: request.sid });

  await waConfirmation(phone);
  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory).toEqual({ order_updates: 'none', offers: 'opted_in', recommendations: 'none' });
  const optIn = consents.events.find((e: any) => e.type === 'opted_in');
  expect(optIn.proof).toMatchObject({ method: 'whatsapp_button', channel: 'whatsapp', requestChannel: 'whatsapp', requestMode: 'template', requestProviderId: request.sid });
});

test.concurrent('WhatsApp inside the 24-hour window: session quick reply, no template', async () => {
  const phone = phoneNo(3);
  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${ACME.whatsapp}`, body: 'Hi there, question about my order' });
  await waitForWhatsappWindow(stack, phone, { timeoutMs: SLOW });

  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'whatsapp', waitFor: '30s' }] });
  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], SLOW);
  expect(request.contentSid).toBe(TEMPLATE.quickReply);
  expect(request.renderedText).toContain('Acme Outdoor Supplies: may we send you Order updates and Offers and promotions on WhatsApp?');
  expect(request.buttons.map((b) => b.payload)).toEqual([BUTTON_PAYLOADS.yes, BUTTON_PAYLOADS.no]);
  // A session message outside the window would fail with 63016; inside it is delivered.
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0]?.status === 'delivered');

  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${ACME.whatsapp}`, buttonPayload: BUTTON_PAYLOADS.yes, buttonText: 'Yes' });
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.events.find((e: any) => e.kind === 'request:sent')).toMatchObject({ detail: 'session' });
  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_in', recommendations: 'none' });
  expect(consents.events.find((e: any) => e.type === 'opted_in').proof).toMatchObject({ requestMode: 'session', shown: request.renderedText });
});

test.concurrent('IVR: the call names the business and WhatsApp; key 1 confirms', async () => {
  const phone = phoneNo(4);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'ivr', waitFor: '30s' }] });
  const waiting = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), SLOW);
  expect(waiting.from).toBe(ACME.voice);
  expect(waiting.transcript.find((t) => t.kind === 'say')?.text).toContain('This is Acme Outdoor Supplies. We would like to send you Order updates on WhatsApp. Press 1');

  const after = await stack.carrier.pressKeys(waiting.sid, '1');
  expect(after.transcript.at(-2)?.text).toContain('will confirm on WhatsApp');
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.outcome.categories).toEqual(['order_updates']);

  const confirmation = await waConfirmation(phone);
  expect(confirmation.renderedText).toContain('Order updates from Acme Outdoor Supplies');
  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory.order_updates).toBe('opted_in');
  expect(consents.events.find((e: any) => e.type === 'opted_in').proof).toMatchObject({ method: 'ivr_keypress', channel: 'ivr', answerText: '1', answerProviderId: waiting.sid });
  expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
});

test.concurrent('IVR: no key is asked once more, then the call counts as no answer and the next step starts at once', async () => {
  const phone = phoneNo(5);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'ivr', waitFor: '60s' }, { channel: 'sms', waitFor: '60s' }] });
  const first = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), SLOW);
  const second = await stack.carrier.letGatherTimeOut(first.sid);
  expect(second.gather).not.toBeNull();
  const ended = await stack.carrier.letGatherTimeOut(first.sid);
  expect(ended.status).toBe('completed');
  expect(ended.transcript.filter((t) => t.kind === 'say' && t.text.includes('Press 1'))).toHaveLength(2);

  const sms = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], SLOW);
  expect(Date.parse(sms.createdAt) - Date.parse(first.createdAt)).toBeLessThan(30_000);
  expect(stack.carrier.calls({ to: phone })).toHaveLength(1);

  await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'N' });
  const done = await waitForJourneyStatus(stack, journeyId, 'declined', SLOW);
  expect(done.events.some((e: any) => e.kind === 'ivr_no_answer')).toBe(true);
  expect((await consentsOf(stack, phone)).byCategory.offers).toBe('none');
});

test.concurrent('e-mail: opening the page changes nothing; the form POST confirms only the ticked categories', async () => {
  const phone = phoneNo(6);
  const email = 'dana@example.org';
  const journeyId = await startJourney(stack, { contact: { phone, email }, categories: ['order_updates', 'offers', 'recommendations'], plan: [{ channel: 'email', waitFor: '30s' }] });
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], SLOW);
  expect(mail.subject).toContain('Acme Outdoor Supplies');
  expect(mail.text).toContain('WhatsApp');
  const link = mail.links.find((l) => l.startsWith(`${stack.apiUrl}/c/`));
  expect(link).toBeDefined();

  const shown = await fetch(link!);
  expect(shown.status).toBe(200);
  const html = await shown.text();
  expect(html).toContain('Acme Outdoor Supplies');
  expect(html).toMatch(/would like to send you messages on (<strong>)?WhatsApp/);
  expect(html.match(/type="checkbox" name="categories" value="[a-z_]+" checked/g)).toHaveLength(3);
  expect(html).toContain('value="confirm"');
  expect(html).toContain('value="decline"');
  // A mail scanner opening the link twice must not decide anything.
  await (await fetch(link!)).text();
  const stillActive = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(stillActive.body).toMatchObject({ status: 'active', source: 'workflow' });
  expect((await consentsOf(stack, phone)).events).toHaveLength(0);

  const form = new URLSearchParams([
    ['categories', 'order_updates'],
    ['categories', 'recommendations'],
    ['decision', 'confirm'],
  ]);
  const posted = await fetch(link!, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'jest-browser' } });
  expect(posted.status).toBe(200);
  expect(await posted.text()).toContain('Order updates, Product recommendations');

  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.outcome.categories).toEqual(['order_updates', 'recommendations']);
  const confirmation = await waConfirmation(phone);
  expect(confirmation.renderedText).toContain('Order updates and Product recommendations');
  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'opted_in' });
  const proof = consents.events.find((e: any) => e.type === 'opted_in').proof;
  expect(proof).toMatchObject({ method: 'email_form', channel: 'email', confirmedCategories: ['order_updates', 'recommendations'] });
  expect(proof.inbound).toMatchObject({ userAgent: 'jest-browser', form: { decision: 'confirm' } });
  expect(proof.inbound.shownText).toMatch(/Acme Outdoor Supplies[\s\S]*WhatsApp/);

  const reused = await fetch(link!, { method: 'POST', body: new URLSearchParams({ decision: 'confirm', categories: 'offers' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect([409, 410]).toContain(reused.status);
  expect((await consentsOf(stack, phone)).byCategory.offers).toBe('none');
});
