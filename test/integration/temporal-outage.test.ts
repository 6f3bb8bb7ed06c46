import { randomBytes } from 'node:crypto';
import { handOverPendingEvents } from '../../services/journey-events';
import { postAsTwilio } from '../harness/contact';
import { startCutOffApi, type CutOffApi } from '../harness/cut-off-api';
import { startTestStack, TEST_AUTH_TOKEN, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

/**
 * While the API cannot reach Temporal, a contact's replies are acknowledged and kept in the store, and
 * reach their journeys, in order and once, when it can again. Starting a journey answers 503 at once.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+15005550006';

let stack: TestStack;
let cutOff: CutOffApi;
let cutOffUrl: string;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'tout' });
  cutOff = await startCutOffApi(stack);
  cutOffUrl = cutOff.url;
});
afterAll(async () => {
  await cutOff?.close();
  await stack?.close();
});

const sid = () => `SM${randomBytes(16).toString('hex')}`;
const reply = (phone: string, body: string, messageSid = sid()) => ({ MessageSid: messageSid, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: body, NumMedia: '0' });
const keptFor = async (phone: string) => stack.store.connection.collection('events_pending').countDocuments({ 'event.input.phone': phone });
const sweep = () => handOverPendingEvents({ client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: 'unused' }, stack.api.log);

async function smsJourney(phone: string): Promise<string> {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect(r.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
  return r.body.journeyId;
}

test('a YES sent while Temporal is unreachable is acknowledged, kept once, and confirms the journey once Temporal is back', async () => {
  const phone = '+14155550711';
  const journeyId = await smsJourney(phone);
  const yes = reply(phone, 'YES');
  const first = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', yes, TEST_AUTH_TOKEN, cutOffUrl);
  const again = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', yes, TEST_AUTH_TOKEN, cutOffUrl);
  expect([first.status, again.status]).toEqual([200, 200]);
  expect(await keptFor(phone)).toBe(1);
  expect((await stack.request('GET', `/v1/journeys/${journeyId}`)).body.status).toBe('active');

  await sweep();
  await waitForJourneyStatus(stack, journeyId, 'confirmed', 20_000);
  expect(await keptFor(phone)).toBe(0);
  const confirmations = await stack.carrier.waitFor(() => {
    const wa = stack.carrier.messages({ to: `whatsapp:${phone}` });
    return wa.length ? wa : undefined;
  }, 15_000);
  expect(confirmations).toHaveLength(1);
});

test('replies kept during an outage reach the journey in the order they came: an unclear reply, then NO', async () => {
  const phone = '+14155550712';
  const journeyId = await smsJourney(phone);
  const unclear = reply(phone, 'maybe later');
  const no = reply(phone, 'NO');
  for (const r of [unclear, no]) expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', r, TEST_AUTH_TOKEN, cutOffUrl)).status).toBe(200);
  expect(await keptFor(phone)).toBe(2);
  await sweep();
  const ended = await waitForJourneyStatus(stack, journeyId, 'declined', 20_000);
  const received = ended.events.filter((e: any) => e.direction === 'received').map((e: any) => [e.providerId, e.detail]);
  expect(received).toEqual([
    [unclear.MessageSid, 'other'],
    [no.MessageSid, 'decline'],
  ]);
});

test('starting a journey while Temporal is unreachable is a quick 503 with Retry-After; nothing is started', async () => {
  const phone = '+14155550713';
  const res = await fetch(`${cutOffUrl}/v1/journeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ businessId: 'acme', contact: { phone }, categories: ['offers'] }),
  });
  expect(res.status).toBe(503);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await res.json()) as { error: string }).error).toBe('unavailable');
  expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
});
