import { consentsOf, numberedPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourney, waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * Every way a journey can go besides a plain yes: decline, expiry with reminders, escalation to the
 * next channel (by timeout, by a provider error at once, by a failed delivery report), unknown
 * replies, STOP in the middle, cancel, and a duplicate start. Assertions are on what reached the
 * carrier, what the store holds and what the API answers.
 *
 * The tests run concurrently against one stack: each has its own contact, and asserts only on it.
 */

const phoneNo = numberedPhones(300);

const ACME_SMS = '+15005550006';

jest.setTimeout(60_000);

/** Generous waits: these files share two cores with the servers and other test files. */
const SLOW = 30_000;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jbr' });
});
afterAll(async () => {
  await stack?.close();
});

const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));

/** Everything the carrier accepted for this contact on any channel, oldest first. */
function outboundTo(phone: string) {
  return stack.carrier.messages({ contact: phone }).filter((m) => m.direction === 'outbound-api');
}

test.concurrent('decline: NO writes a declined ledger event, no consent and sends nothing more', async () => {
  const phone = phoneNo(1);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers', 'recommendations'], plan: [{ channel: 'sms', waitFor: '30s', remindAfter: ['3s'] }] });
  const request = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'No' });
  const done = await waitForJourneyStatus(stack, journeyId, 'declined', SLOW);
  expect(done.outcome.categories).toBeUndefined();

  const consents = await consentsOf(stack, phone);
  expect(consents.byCategory).toEqual({ order_updates: 'none', offers: 'none', recommendations: 'none' });
  expect(consents.events).toHaveLength(1);
  expect(consents.events[0]).toMatchObject({ type: 'declined', proof: { method: 'sms_reply', answerText: 'No', requestProviderId: request.sid, categories: ['offers', 'recommendations'] } });
  // Past the reminder that would have gone out had the journey still waited.
  await sleepUntil(Date.parse(request.createdAt) + 4_000);
  expect(outboundTo(phone).map((m) => m.sid)).toEqual([request.sid]);
});

test.concurrent('expire: reminders go out on time, then the journey ends expired with nothing written', async () => {
  const phone = phoneNo(2);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '4s', remindAfter: ['2s', '1s'] }] });
  const done = await waitForJourneyStatus(stack, journeyId, 'expired', SLOW);
  const sent = outboundTo(phone);
  expect(sent).toHaveLength(3);
  expect(sent[0].body.startsWith('Reminder')).toBe(false);
  expect(sent[1].body).toMatch(/^Reminder - Acme Outdoor Supplies: may we send you Order updates on WhatsApp\?/);
  expect(sent[2].body).toMatch(/^Reminder - /);
  const t = sent.map((m) => Date.parse(m.createdAt));
  expect(t[1] - t[0]).toBeGreaterThanOrEqual(900);
  expect(t[2] - t[0]).toBeGreaterThanOrEqual(1_900);
  expect(t[2] - t[1]).toBeGreaterThanOrEqual(900);
  expect(t[2] - t[0]).toBeLessThan(4_000);
  expect(Date.parse(done.outcome.at) - t[0]).toBeGreaterThanOrEqual(3_900);
  expect(done.attempts).toBe(3);

  expect((await consentsOf(stack, phone)).events).toHaveLength(0);
  expect(await stack.store.consents.countDocuments({ phone })).toBe(0);
  const stored = await stack.store.journeys.findById(journeyId).lean();
  expect(stored).toMatchObject({ status: 'expired' });
  expect(stored?.endedAt).toBeInstanceOf(Date);
});

test.concurrent('escalation: no answer by SMS moves to e-mail after waitFor; the e-mail confirms', async () => {
  const phone = phoneNo(3);
  const email = 'escalate@example.org';
  const journeyId = await startJourney(stack, { contact: { phone, email }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '2s' }, { channel: 'email', waitFor: '30s' }] });
  const sms = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  expect(stack.carrier.emails({ to: email })).toHaveLength(0);
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], SLOW);
  const gap = Date.parse(mail.receivedAt) - Date.parse(sms.createdAt);
  expect(gap).toBeGreaterThanOrEqual(1_900);
  // Bounds against being stuck, wide enough for a loaded 2-core CI machine (seen: 26 s once).
  expect(gap).toBeLessThan(30_000);
  const moving = await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1, 'step 1', SLOW);
  expect(moving).toMatchObject({ status: 'active', channel: 'email', source: 'workflow' });

  // A late SMS answer after escalation still counts: the contact acted.
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'yes' });
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.outcome.categories).toEqual(['offers']);
  const proof = (await consentsOf(stack, phone)).events.find((e: any) => e.type === 'opted_in').proof;
  expect(proof).toMatchObject({ method: 'sms_reply', requestChannel: 'email' });
});

test.concurrent('provider refuses at once (21211): the journey moves to the next step without waiting', async () => {
  const phone = phoneNo(4);
  const email = 'refused@example.org';
  stack.carrier.setRecipientBehaviour(phone, { failWith: 21211 });
  const started = Date.now();
  const journeyId = await startJourney(stack, { contact: { phone, email }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '60s' }, { channel: 'email', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], SLOW);
  // Well before the 60 s deadline: the refusal moved the journey, not a timer.
  expect(Date.now() - started).toBeLessThan(35_000);
  expect(outboundTo(phone)).toHaveLength(0);
  const state = await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1, 'step 1', SLOW);
  expect(state.events.find((e: any) => e.kind === 'request:failed')).toMatchObject({ channel: 'sms', step: 0, detail: 'error 21211' });
  const outbox = await stack.store.outbox.find({ contactId: state.contactId, purpose: 'request' }).sort({ createdAt: 1 }).lean();
  expect(outbox.map((r) => [r.channel, r.status, r.errorCode ?? null])).toEqual([
    ['sms', 'failed', 21211],
    ['email', 'sent', null],
  ]);
  stack.carrier.setRecipientBehaviour(phone, {});
  await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
});

test.concurrent('delivery fails later (30003 status callback): the journey moves on at once', async () => {
  const phone = phoneNo(5);
  stack.carrier.setRecipientBehaviour(phone, { failWith: 30003 });
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s', remindAfter: ['40s'] }, { channel: 'ivr', waitFor: '60s' }] });
  const sms = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  const call = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone })[0], SLOW);
  expect(stack.carrier.messages({ contact: phone })[0]).toMatchObject({ sid: sms.sid, status: 'undelivered', errorCode: 30003 });
  // Well before the 40 s reminder and the 60 s deadline: the failure moved the journey, not a timer.
  expect(Date.parse(call.createdAt) - Date.parse(sms.createdAt)).toBeLessThan(35_000);
  const state = await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1, 'step 1', SLOW);
  expect(state.events.some((e: any) => e.kind === 'status:undelivered' && e.providerId === sms.sid && e.detail === 'error 30003')).toBe(true);
  expect(outboundTo(phone)).toHaveLength(1);
  stack.carrier.setRecipientBehaviour(phone, {});
  await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
});

test.concurrent('WhatsApp template fails at delivery (63016): the e-mail step starts at once', async () => {
  const phone = phoneNo(10);
  const email = 'no-whatsapp@example.org';
  stack.carrier.setRecipientBehaviour(phone, { failWith: 63016 });
  const journeyId = await startJourney(stack, { contact: { phone, email }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '60s' }, { channel: 'email', waitFor: '60s' }] });
  const wa = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], SLOW);
  expect(Date.parse(mail.receivedAt) - Date.parse(wa.createdAt)).toBeLessThan(20_000);
  expect(stack.carrier.messages({ contact: phone })[0]).toMatchObject({ status: 'failed', errorCode: 63016 });
  const state = await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1, 'step 1', SLOW);
  expect(state.events.some((e: any) => e.kind === 'status:failed' && e.providerId === wa.sid)).toBe(true);
  stack.carrier.setRecipientBehaviour(phone, {});
  await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
});

test.concurrent('the call is not answered: the next step starts at once', async () => {
  const phone = phoneNo(11);
  stack.carrier.setRecipientBehaviour(phone, { callOutcome: 'no-answer' });
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'ivr', waitFor: '60s' }, { channel: 'sms', waitFor: '60s' }] });
  const call = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone })[0], SLOW);
  const sms = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  expect(Date.parse(sms.createdAt) - Date.parse(call.createdAt)).toBeLessThan(20_000);
  expect(stack.carrier.calls({ to: phone })[0].status).toBe('no-answer');
  await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1 && j.channel === 'sms', 'the SMS step', SLOW);
  stack.carrier.setRecipientBehaviour(phone, {});
  await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
});

test.concurrent('unknown replies: exactly one "reply YES or NO" per step, then YES still confirms', async () => {
  const phone = phoneNo(6);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '6s' }, { channel: 'sms', waitFor: '30s' }] });
  await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  const clarifications = () => outboundTo(phone).filter((m) => m.body.includes('Please reply YES or NO'));
  const unknownReplies = (j: any) => j.events.filter((e: any) => e.kind === 'sms_reply' && e.detail === 'other').length;

  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'maybe' });
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'what is this?' });
  await waitForJourney(stack, journeyId, (j) => unknownReplies(j) === 2, 'two unknown replies', SLOW);
  await stack.carrier.waitFor(() => clarifications().length === 1, SLOW);

  await waitForJourney(stack, journeyId, (j) => j.stepIndex === 1, 'step 1', SLOW);
  await stack.carrier.waitFor(() => outboundTo(phone).length === 3, SLOW);
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'hmm' });
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'hmm?' });
  await waitForJourney(stack, journeyId, (j) => unknownReplies(j) === 4, 'four unknown replies', SLOW);
  await stack.carrier.waitFor(() => clarifications().length === 2, SLOW);

  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'YES' });
  await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(clarifications()).toHaveLength(2);
  // Two requests and two clarifications; the confirmation goes out on WhatsApp.
  expect(outboundTo(phone).filter((m) => m.channel === 'sms')).toHaveLength(4);
});

test.concurrent('STOP mid-journey: opted_out, one opt-out confirmation, nothing after it', async () => {
  const phone = phoneNo(7);
  const email = 'stopper@example.org';
  const journeyId = await startJourney(stack, {
    contact: { phone, email },
    categories: ['order_updates', 'offers'],
    plan: [
      { channel: 'sms', waitFor: '4s', remindAfter: ['3s'] },
      { channel: 'email', waitFor: '2s' },
    ],
  });
  const request = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  const stop = await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'STOP' });
  expect(stop.status).toBe(200);
  const done = await waitForJourneyStatus(stack, journeyId, 'opted_out', SLOW);
  expect(done.outcome.categories).toBeUndefined();

  // Past the reminder and the e-mail step that would have followed.
  await sleepUntil(Date.parse(request.createdAt) + 5_000);
  const sent = outboundTo(phone);
  expect(sent).toHaveLength(2);
  expect(sent[1].body).toContain('you are unsubscribed');
  expect(stack.carrier.emails({ to: email })).toHaveLength(0);
  const consents = await consentsOf(stack, phone);
  expect(consents.messaging).toBe('opted_out');
  expect(consents.byCategory).toEqual({ order_updates: 'opted_out', offers: 'opted_out', recommendations: 'opted_out' });
  expect(consents.events.every((e: any) => e.type === 'opted_out')).toBe(true);

  const again = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'] });
  expect(again.status).toBe(409);
});

test.concurrent('cancel: POST /cancel ends the journey at once; cancelling again answers 409', async () => {
  const phone = phoneNo(8);
  const journeyId = await startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '5s', remindAfter: ['3s'] }] });
  const request = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  const cancelled = await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, { reason: 'campaign withdrawn' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ journeyId, status: 'cancelled', outcome: { status: 'cancelled', reason: 'campaign withdrawn' } });

  const again = await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
  expect(again.status).toBe(409);
  expect(again.body.error).toBe('journey_ended');

  const read = await waitForJourney(stack, journeyId, (j) => j.source === 'store', 'the store', SLOW);
  expect(read.status).toBe('cancelled');
  const afterClose = await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {});
  expect(afterClose).toMatchObject({ status: 409, body: { error: 'journey_ended' } });
  await sleepUntil(Date.parse(request.createdAt) + 4_000);
  expect(outboundTo(phone)).toHaveLength(1);
  expect((await consentsOf(stack, phone)).events).toHaveLength(0);

  const unknown = await stack.request('POST', `/v1/journeys/${journeyId.replace(/.{4}$/, '0000')}/cancel`, {});
  expect(unknown.status).toBe(404);
});

test.concurrent('duplicate start: 200 with the running journey and no second request; after the end a new journey starts', async () => {
  const phone = phoneNo(9);
  const body = { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] };
  const [a, b] = await Promise.all([stack.request('POST', '/v1/journeys', body), stack.request('POST', '/v1/journeys', body)]);
  expect([a.status, b.status].sort()).toEqual([200, 202]);
  expect(a.body.journeyId).toBe(b.body.journeyId);
  const journeyId = a.body.journeyId;
  const third = await stack.request('POST', '/v1/journeys', { ...body, categories: ['order_updates'] });
  expect(third).toMatchObject({ status: 200, body: { journeyId, existing: true, statusUrl: `/v1/journeys/${journeyId}` } });
  await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  await sleep(300);
  expect(outboundTo(phone)).toHaveLength(1);

  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'no' });
  // A decided journey still finishes its bookkeeping; only once it has closed may a new one start.
  await waitForJourney(stack, journeyId, (j) => j.status === 'declined' && j.source === 'store', 'declined, from the store', SLOW);
  const next = await stack.request('POST', '/v1/journeys', body);
  expect(next.status).toBe(202);
  expect(next.body.journeyId).not.toBe(journeyId);
  await stack.request('POST', `/v1/journeys/${next.body.journeyId}/cancel`, {});
});
