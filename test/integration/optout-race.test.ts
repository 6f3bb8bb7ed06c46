import type { CarrierMessage } from '../../dev/carrier/types';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';

/**
 * The promise behind every opt-out acknowledgement: once our webhook has answered a STOP, the carrier
 * records nothing more for that contact but the one confirmation, even while a journey was about to
 * send a reminder at that very moment.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+15005550006';
const CONTACTS = 20;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'oorace' });
});
afterAll(async () => {
  await stack?.close();
});

const outbound = (phone: string): CarrierMessage[] => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');
const isConfirmation = (m: CarrierMessage) => m.body.includes('you are unsubscribed') && m.body.includes('START');

test('STOP at the moment reminders fire: after each acknowledgement only the one confirmation reaches the carrier', async () => {
  const phones = Array.from({ length: CONTACTS }, (_, i) => `+1415555${3000 + i}`);
  const journeyIds = new Map<string, string>();
  await Promise.all(
    phones.map(async (phone) => {
      const r = await stack.request('POST', '/v1/journeys', {
        businessId: 'acme',
        contact: { phone },
        categories: ['offers'],
        plan: [{ channel: 'sms', waitFor: '30s', remindAfter: ['1s', '2s', '3s', '4s', '5s'] }],
      });
      expect(r.status).toBe(202);
      journeyIds.set(phone, r.body.journeyId);
    }),
  );
  await stack.carrier.waitFor(() => phones.every((p) => outbound(p).length > 0), 15_000);
  // Into the reminder phase, so some sends are in flight when the STOPs land.
  await sleep(1_700);

  const ackAt = new Map<string, number>();
  await Promise.all(
    phones.map(async (phone, i) => {
      await sleep(i * 37);
      const r = await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
      ackAt.set(phone, Date.now());
      expect(r.status).toBe(200);
    }),
  );

  await stack.carrier.waitFor(() => phones.every((p) => outbound(p).some(isConfirmation)), 30_000);
  // Longer than the gap between reminders: a journey still running would have sent again by now.
  await sleep(1_500);

  const remindersBeforeAck = phones.reduce((n, p) => n + outbound(p).filter((m) => m.body.startsWith('Reminder') && Date.parse(m.createdAt) <= ackAt.get(p)!).length, 0);
  expect(remindersBeforeAck).toBeGreaterThan(0);

  const violations: string[] = [];
  for (const phone of phones) {
    const after = outbound(phone).filter((m) => Date.parse(m.createdAt) > ackAt.get(phone)!);
    const unexpected = after.filter((m) => !isConfirmation(m));
    if (unexpected.length) violations.push(`${phone}: ${unexpected.map((m) => `${m.createdAt} "${m.body.slice(0, 40)}"`).join(', ')} after ack ${new Date(ackAt.get(phone)!).toISOString()}`);
    expect(outbound(phone).filter(isConfirmation)).toHaveLength(1);
  }
  expect(violations).toEqual([]);

  for (const phone of phones) {
    const j = await stack.request('GET', `/v1/journeys/${journeyIds.get(phone)}`);
    expect(j.body.status).toBe('opted_out');
  }
});
