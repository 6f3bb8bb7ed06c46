import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { postAsTwilio } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { apiDepsWith } from '../harness/stack-env';
import { sleep } from '../harness/wait';

/**
 * The API restarted in the middle of a burst of replies: whatever the old process acknowledged and
 * whatever the provider delivers again to the new one, each reply applies once.
 */

jest.setTimeout(120_000);

const SMS_SENDER = '+15005550006';
const COUNT = 12;

let stack: TestStack;
let replacement: FastifyInstance | undefined;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'fapi' });
});
afterAll(async () => {
  await replacement?.close();
  await stack?.close();
});

test('replies redelivered after an API restart mid-burst are applied once each', async () => {
  const unique = Array.from({ length: COUNT }, (_, i) => `+141555507${String(50 + i)}`);
  const journeyIds = new Map<string, string>();
  for (const phone of unique) {
    const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '5m' }] });
    expect(r.status).toBe(202);
    journeyIds.set(phone, r.body.journeyId);
  }
  for (const phone of unique) await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 20_000);

  const replies = unique.map((phone) => ({ MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: 'YES', NumMedia: '0' }));
  const port = Number(new URL(stack.apiUrl).port);
  const deliver = (params: Record<string, string>) => postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params).then((r) => r.status, () => 0);
  // The first half of the burst is answered; the API goes down while the second half is on the wire.
  const half = replies.length / 2;
  expect(await Promise.all(replies.slice(0, half).map(deliver))).toEqual(replies.slice(0, half).map(() => 200));
  const cutOff = replies.slice(half).map(deliver);
  await stack.api.close();
  await Promise.all(cutOff);

  replacement = await buildApp(apiDepsWith(stack, stack.client));
  await replacement.listen({ host: '127.0.0.1', port });
  // The provider delivers every reply again (it cannot tell which ones we took).
  const again = await Promise.all(replies.map((params) => postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params)));
  expect(again.map((r) => r.status)).toEqual(replies.map(() => 200));

  for (const journeyId of journeyIds.values()) await waitForJourneyStatus(stack, journeyId, 'confirmed', 60_000);
  for (const phone of unique) await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 30_000);
  await sleep(2_000);
  expect(unique.map((phone) => stack.carrier.messages({ to: `whatsapp:${phone}` }).length)).toEqual(unique.map(() => 1));
  const kept = await stack.store.inbound.countDocuments({ _id: { $in: replies.map((r) => r.MessageSid) } });
  expect(kept).toBe(replies.length);
});
