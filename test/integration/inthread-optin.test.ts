import { randomBytes } from 'node:crypto';
import type { CarrierMessage } from '../../dev/carrier/types';
import { ALL_CATEGORIES_PAYLOAD } from '../../domain/category-choice';
import { contactIdOf } from '../../store/models';
import { CATEGORY_CHOICE_WORKFLOW_TYPE, type CategoryChoiceInput } from '../../workflows/inthread/contract';
import { journeyIdOf, journeyWorkflowId, type JourneyState } from '../../workflows/journey/contract';
import { consentsOf, freshPhones, postAsTwilio, waitForConsents } from '../harness/contact';
import { startTestStack, TEST_ACCOUNT_SID, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * START (or "subscribe") with nothing running asks, in the same thread, which categories: a numbered
 * list on SMS, buttons on WhatsApp. The reply is the consent, with the whole exchange as proof.
 */

jest.setTimeout(60_000);

const SMS_SENDER = '+15005550006';
const WA_SENDER = '+15005550007';
const BUSINESS_NAME = 'Acme Outdoor Supplies';
const CHOICE_CONTENT = 'HXacme0session0category0choice0005';
const CONFIRMATION_CONTENT = 'HXacme0optin0confirmation00000002';
const ALL = ['order_updates', 'offers', 'recommendations'];

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'inthread' });
});
afterAll(async () => {
  await stack?.close();
});

const freshPhone = freshPhones('+1312555');

const smsTo = (phone: string): CarrierMessage[] => stack.carrier.messages({ to: phone, direction: 'outbound-api' });
const whatsappTo = (phone: string): CarrierMessage[] => stack.carrier.messages({ to: `whatsapp:${phone}`, direction: 'outbound-api' });
const sms = (phone: string, body: string) => stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body });
const whatsapp = (phone: string, body: string) => stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${WA_SENDER}`, body });

/** The category choice runs as the contact's journey; its id is in the journeys collection once it began. */
async function choiceJourneyOf(phone: string): Promise<string> {
  const contactId = contactIdOf('acme', phone);
  const doc = await stack.carrier.waitFor(() => stack.store.journeys.findOne({ contactId, 'source.kind': 'in_thread_start' }).lean(), 10_000);
  return String(doc._id);
}

test('SMS START with no journey: numbered list, reply "1,3", two opt-ins with proof, WhatsApp confirmation', async () => {
  const phone = freshPhone();
  const start = await sms(phone, 'START');
  expect(start.status).toBe(200);

  const question = await stack.carrier.waitFor(() => smsTo(phone)[0], 10_000);
  expect(question.body).toBe(
    `${BUSINESS_NAME}: which messages would you like from us on WhatsApp? Reply 1 for Order updates, 2 for Offers and promotions, 3 for Product recommendations, 1,3 for several, ALL for all. Reply STOP to opt out.`,
  );
  const journeyId = await choiceJourneyOf(phone);
  const running = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(running.body).toMatchObject({ status: 'active', channel: 'sms', categories: ALL, source: 'workflow' });

  const reply = await sms(phone, '1,3');
  const ended = await waitForJourneyStatus(stack, journeyId, 'confirmed');
  expect(ended.outcome.categories).toEqual(['order_updates', 'recommendations']);

  const confirmation = await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
  expect(confirmation.contentSid).toBe(CONFIRMATION_CONTENT);
  expect(confirmation.renderedText).toContain('Order updates and Product recommendations');
  expect(confirmation.renderedText).toContain(BUSINESS_NAME);

  const consents = await waitForConsents(stack, phone, (c) => c.events.filter((e: any) => e.type === 'confirmation_sent').length === 2);
  expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'opted_in' });
  const optIns = consents.events.filter((e: any) => e.type === 'opted_in');
  expect(optIns.map((e: any) => e.category).sort()).toEqual(['order_updates', 'recommendations']);
  for (const e of optIns) {
    expect(e.proof).toMatchObject({
      method: 'in_thread_choice',
      channel: 'sms',
      businessName: BUSINESS_NAME,
      shown: question.body,
      requestProviderId: question.sid,
      offeredCategories: ALL,
      confirmedCategories: ['order_updates', 'recommendations'],
      chosenAll: false,
      start: { providerId: start.messageSid, text: 'START' },
      answerMethod: 'sms_reply',
      answerText: '1,3',
      answerProviderId: reply.messageSid,
      source: { kind: 'in_thread_start', reference: start.messageSid },
      journeyId,
    });
    expect(e.proof.start.receivedAt).toBeTruthy();
    expect(e.proof.answeredAt).toBeTruthy();
    expect(e.proof.requestedAt).toBeTruthy();
    expect(e.proof.inbound.MessageSid).toBe(reply.messageSid);
  }
  expect(consents.categories.find((c: any) => c.category === 'order_updates').confirmationMessageId).toBe(confirmation.sid);
  expect(smsTo(phone)).toHaveLength(1);
});

test('WhatsApp "subscribe": one button per category plus All; tapping All opts in to every category', async () => {
  const phone = freshPhone();
  const start = await whatsapp(phone, 'subscribe');
  expect(start.status).toBe(200);

  const question = await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
  expect(question.contentSid).toBe(CHOICE_CONTENT);
  expect(question.renderedText).toContain(BUSINESS_NAME);
  expect(question.renderedText).toContain('WhatsApp');
  expect(question.buttons).toEqual([
    { payload: 'category:order_updates', text: 'Order updates' },
    { payload: 'category:offers', text: 'Offers and promotions' },
    { payload: 'category:recommendations', text: 'Product recommendations' },
    { payload: ALL_CATEGORIES_PAYLOAD, text: 'All' },
  ]);
  const journeyId = await choiceJourneyOf(phone);

  const tap = await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${WA_SENDER}`, buttonPayload: ALL_CATEGORIES_PAYLOAD, buttonText: 'All' });
  expect(tap.status).toBe(200);
  await waitForJourneyStatus(stack, journeyId, 'confirmed');

  const confirmation = await stack.carrier.waitFor(() => whatsappTo(phone).find((m) => m.contentSid === CONFIRMATION_CONTENT), 10_000);
  expect(confirmation.renderedText).toContain('Order updates, Offers and promotions and Product recommendations');
  const consents = await waitForConsents(stack, phone, (c) => c.events.filter((e: any) => e.type === 'confirmation_sent').length === 3);
  expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_in', recommendations: 'opted_in' });
  const optIn = consents.events.find((e: any) => e.type === 'opted_in' && e.category === 'offers');
  expect(optIn.proof).toMatchObject({
    method: 'in_thread_choice',
    channel: 'whatsapp',
    requestMode: 'session',
    requestProviderId: question.sid,
    shown: question.renderedText,
    chosenAll: true,
    answerMethod: 'whatsapp_button',
    answerButtonPayload: ALL_CATEGORIES_PAYLOAD,
    answerProviderId: tap.messageSid,
    start: { providerId: start.messageSid, text: 'subscribe' },
  });
});

test('an unreadable reply gets one clarification, then the flow keeps waiting for a valid answer', async () => {
  const phone = freshPhone();
  await sms(phone, 'start');
  await stack.carrier.waitFor(() => smsTo(phone)[0], 10_000);
  const journeyId = await choiceJourneyOf(phone);

  // While the question is open it is the contact's journey: the API does not start another.
  const another = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'] });
  expect(another.status).toBe(200);
  expect(another.body).toMatchObject({ journeyId, existing: true });

  await sms(phone, 'maybe later');
  const clarify = await stack.carrier.waitFor(() => smsTo(phone)[1], 10_000);
  expect(clarify.body).toMatch(/^Acme Outdoor Supplies: sorry, we did not understand which messages you want\. Reply 1 for Order updates, .* ALL for all\. Reply STOP to opt out\.$/);

  await sms(phone, '7');
  await stack.carrier.waitFor(async () => {
    const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
    return r.body.events.filter((e: any) => e.kind === 'unreadable_choice').length === 2;
  }, 10_000);
  await sleep(300);
  expect(smsTo(phone)).toHaveLength(2);

  await sms(phone, '2');
  const ended = await waitForJourneyStatus(stack, journeyId, 'confirmed');
  expect(ended.outcome.categories).toEqual(['offers']);
  expect(ended.events.filter((e: any) => e.kind.startsWith('category_clarify'))).toHaveLength(1);
  const consents = await waitForConsents(stack, phone, (c) => c.events.some((e: any) => e.type === 'confirmation_sent'));
  expect(consents.byCategory).toEqual({ order_updates: 'none', offers: 'opted_in', recommendations: 'none' });
});

test('NO declines: the flow ends declined with a declined event, and nothing is confirmed', async () => {
  const phone = freshPhone();
  await sms(phone, 'SUBSCRIBE');
  const question = await stack.carrier.waitFor(() => smsTo(phone)[0], 10_000);
  const journeyId = await choiceJourneyOf(phone);
  await sms(phone, 'no');
  await waitForJourneyStatus(stack, journeyId, 'declined');
  const consents = await waitForConsents(stack, phone, (c) => c.events.some((e: any) => e.type === 'declined'));
  expect(consents.events.find((e: any) => e.type === 'declined').proof).toMatchObject({ shown: question.body, answerText: 'no', journeyId });
  expect(consents.byCategory).toEqual({ order_updates: 'none', offers: 'none', recommendations: 'none' });
  await sleep(300);
  expect(whatsappTo(phone)).toHaveLength(0);
});

test('STOP while the question is open opts out through the usual path and ends the flow opted_out', async () => {
  const phone = freshPhone();
  await whatsapp(phone, 'START');
  await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
  const journeyId = await choiceJourneyOf(phone);

  await whatsapp(phone, 'STOP');
  await waitForJourneyStatus(stack, journeyId, 'opted_out');
  const consents = await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && c.categories.every((x: any) => x.status === 'opted_out'));
  expect(consents.events.some((e: any) => e.type === 'opted_in')).toBe(false);
  const optOut = await stack.carrier.waitFor(() => whatsappTo(phone).find((m) => m.renderedText.includes('you are unsubscribed')), 10_000);
  expect(optOut.renderedText).toContain(BUSINESS_NAME);

  // A late answer to the question reaches nothing and changes nothing.
  await whatsapp(phone, '1');
  await sleep(1000);
  expect((await consentsOf(stack, phone)).byCategory).toEqual({ order_updates: 'opted_out', offers: 'opted_out', recommendations: 'opted_out' });
  expect(whatsappTo(phone)).toHaveLength(2);
});

test('a repeated delivery of the same START MessageSid starts nothing new', async () => {
  const phone = freshPhone();
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'START', NumMedia: '0' };
  expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)).status).toBe(200);
  await stack.carrier.waitFor(() => smsTo(phone)[0], 10_000);
  const journeyId = await choiceJourneyOf(phone);

  expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)).status).toBe(200);
  await sleep(1500);
  expect(smsTo(phone)).toHaveLength(1);
  expect(await stack.store.journeys.countDocuments({ contactId: contactIdOf('acme', phone) })).toBe(1);
  const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(r.body.status).toBe('active');
  expect(r.body.events.filter((e: any) => e.direction === 'received')).toHaveLength(1);
});

test('no answer within the wait: the flow ends expired and records nothing', async () => {
  const phone = freshPhone();
  const contactId = contactIdOf('acme', phone);
  const workflowId = journeyWorkflowId('acme', contactId);
  const messageSid = `SM${randomBytes(16).toString('hex')}`;
  const input: CategoryChoiceInput = {
    businessId: 'acme',
    contactId,
    phone,
    channel: 'sms',
    start: { messageSid, text: 'START', receivedAt: new Date().toISOString(), payload: { MessageSid: messageSid, Body: 'START' } },
    waitForMs: 1_500,
    requestedAt: new Date().toISOString(),
  };
  const handle = await stack.client.workflow.start(CATEGORY_CHOICE_WORKFLOW_TYPE, { workflowId, taskQueue: stack.taskQueue, args: [input] });
  const state = (await handle.result()) as JourneyState;
  expect(state).toMatchObject({ status: 'expired', journeyId: journeyIdOf(workflowId, handle.firstExecutionRunId), outcome: { reason: 'no answer to the category question' } });
  expect(smsTo(phone)).toHaveLength(1);
  expect((await consentsOf(stack, phone)).events).toHaveLength(0);
});

describe('a blocked contact writes START', () => {
  test('with nothing to restore: messaging resumes as before, and then the categories are asked', async () => {
    const phone = freshPhone();
    const optOut = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, reason: 'test', source: { kind: 'agent' } });
    expect(optOut.status).toBe(202);
    await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && c.categories.every((x: any) => x.status === 'opted_out'));

    await sms(phone, 'START');
    const [resumed, question] = await stack.carrier.waitFor(() => (smsTo(phone).length >= 2 ? smsTo(phone) : undefined), 10_000);
    expect(resumed.body).toContain('you can receive messages from us again');
    expect(question.body).toContain('which messages would you like from us on WhatsApp?');
    const journeyId = await choiceJourneyOf(phone);

    await sms(phone, 'ALL');
    await waitForJourneyStatus(stack, journeyId, 'confirmed');
    const consents = await waitForConsents(stack, phone, (c) => c.categories.every((x: any) => x.status === 'opted_in'));
    expect(consents.messaging).toBe('allowed');
    const optIn = consents.events.find((e: any) => e.type === 'opted_in' && e.proof.method === 'in_thread_choice');
    expect(optIn.proof).toMatchObject({ resumedMessaging: true, chosenAll: true, answerText: 'ALL' });
  });

  test('with categories restored: messaging resumes with them and nothing is asked', async () => {
    const phone = freshPhone();
    await sms(phone, 'START');
    await stack.carrier.waitFor(() => smsTo(phone)[0], 10_000);
    await waitForJourneyStatus(stack, await choiceJourneyOf(phone), 'active');
    await sms(phone, '1');
    await waitForConsents(stack, phone, (c) => c.events.some((e: any) => e.type === 'confirmation_sent'));

    await sms(phone, 'STOP');
    await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && c.categories.every((x: any) => x.status === 'opted_out'));
    await stack.carrier.waitFor(() => smsTo(phone).find((m) => m.body.includes('you are unsubscribed')), 10_000);
    const before = smsTo(phone).length;

    await sms(phone, 'START');
    const consents = await waitForConsents(stack, phone, (c) => c.messaging === 'allowed' && c.byCategory.order_updates === 'opted_in');
    expect(consents.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', recommendations: 'opted_out' });
    const resumed = await stack.carrier.waitFor(() => smsTo(phone)[before], 10_000);
    expect(resumed.body).toContain('you can receive messages from us again');
    await sleep(1000);
    expect(smsTo(phone)).toHaveLength(before + 1);
    expect(await stack.store.journeys.countDocuments({ contactId: contactIdOf('acme', phone) })).toBe(1);
  });
});
