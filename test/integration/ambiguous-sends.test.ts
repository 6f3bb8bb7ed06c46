import { createTwilioClient } from '../../activities/providers/twilio';
import type { Fault } from '../../dev/carrier/types';
import { parseJourneyId } from '../../workflows/journey/contract';
import { freshPhones, waitForConsents } from '../harness/contact';
import { startTestStack, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

/**
 * A send whose outcome the provider did not tell us (a 500 or 503, a timeout) is settled by the send
 * activity's next attempt: adopted when the provider has the message (its status callback carries the
 * outbox key, or the provider's message list shows it), sent again only when the provider has none and
 * the send gate still lets it through. Each case ends with exactly one message at the contact and an
 * outbox row that says how it was resolved. Before resolution, each left the row `ambiguous` and the
 * journey waiting: no request reached the contact after a 503, no confirmation id was recorded.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+15005550006';
/** The worker gives up on the provider after this long, so an answer 4 s late is a timeout. */
const PROVIDER_TIMEOUT_MS = 2_000;
const LATE_ANSWER_MS = 4_000;
const freshPhone = freshPhones('+1617555');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ambig', worker: false });
  stack.activityDeps.twilio = createTwilioClient({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: stack.carrier.httpUrl, timeoutMs: PROVIDER_TIMEOUT_MS });
  stack.worker = await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const smsTo = (phone: string) => stack.carrier.messages({ to: phone });
const whatsappTo = (phone: string) => stack.carrier.messages({ to: `whatsapp:${phone}` });

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function journeyState(journeyId: string) {
  const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Starts a one-step SMS journey; gives its id and the prefix of its outbox keys. */
async function startSmsJourney(phone: string) {
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  const { workflowId, runId } = parseJourneyId(start.body.journeyId)!;
  return { journeyId: start.body.journeyId as string, keys: `${workflowId}/${runId}` };
}

const sentEvent = (purpose: string) => async (journeyId: string) => (await journeyState(journeyId)).events.find((e: any) => e.kind === `${purpose}:sent`);
const outboxRow = (key: string) => stack.store.outbox.findById(key).lean();

interface Resolved {
  outcome: 'found' | 'resent';
  how: 'status_callback' | 'message_list';
  attempts: number;
}

const created = { target: 'messages', request: 'create' } as const;
const cases: Array<[string, Fault, Resolved]> = [
  ['a 500 after the provider created it: its status callback settles it', { ...created, status: 500, applied: true }, { outcome: 'found', how: 'status_callback', attempts: 1 }],
  ['a 503 before the provider created it: sent again, once', { ...created, status: 503 }, { outcome: 'resent', how: 'message_list', attempts: 2 }],
  ['a timeout after the provider created it, its callbacks lost: found in the message list', { ...created, delayMs: LATE_ANSWER_MS, noCallbacks: true }, { outcome: 'found', how: 'message_list', attempts: 1 }],
];

describe('the opt-in request', () => {
  test.each(cases)('%s', async (_what, fault, resolved) => {
    const phone = freshPhone();
    stack.carrier.injectFault(fault);
    const { journeyId, keys } = await startSmsJourney(phone);

    const sent = await until('the request to be sent', () => sentEvent('request')(journeyId));
    const [request] = smsTo(phone);
    expect(sent.providerId).toBe(request.sid);
    expect(await outboxRow(`${keys}/step0/request`)).toMatchObject({ status: 'sent', providerId: request.sid, attempts: resolved.attempts, resolution: { outcome: resolved.outcome, how: resolved.how } });

    // The journey is not stranded: the contact answers the one request they got.
    await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' });
    await waitForJourneyStatus(stack, journeyId, 'confirmed', 30_000);
    expect(smsTo(phone).map((m) => m.sid)).toEqual([request.sid]);
  });
});

describe('the WhatsApp confirmation', () => {
  const confirmationCases: Array<[string, Fault, Resolved]> = [
    ['a 500 after the provider created it, its callbacks lost: found in the message list', { ...created, status: 500, applied: true, noCallbacks: true }, { outcome: 'found', how: 'message_list', attempts: 1 }],
    ['a 503 before the provider created it: sent again, once', { ...created, status: 503 }, { outcome: 'resent', how: 'message_list', attempts: 2 }],
    ['a timeout after the provider created it: its status callback settles it', { ...created, delayMs: LATE_ANSWER_MS }, { outcome: 'found', how: 'status_callback', attempts: 1 }],
  ];

  test.each(confirmationCases)('%s', async (_what, fault, resolved) => {
    const phone = freshPhone();
    const { journeyId, keys } = await startSmsJourney(phone);
    await until('the request to be sent', () => sentEvent('request')(journeyId));

    stack.carrier.injectFault(fault);
    await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' });
    await waitForJourneyStatus(stack, journeyId, 'confirmed', 30_000);

    const consents = await waitForConsents(stack, phone, (c) => c.categories.some((x: any) => x.confirmationMessageId), 40_000);
    const [confirmation] = whatsappTo(phone);
    expect(whatsappTo(phone)).toHaveLength(1);
    expect(confirmation.renderedText).toContain("You're subscribed to Offers and promotions");
    expect(consents.categories.find((x: any) => x.category === 'offers').confirmationMessageId).toBe(confirmation.sid);
    expect(await outboxRow(`${keys}/confirmation`)).toMatchObject({ status: 'sent', providerId: confirmation.sid, attempts: resolved.attempts, resolution: { outcome: resolved.outcome, how: resolved.how } });
    expect((await sentEvent('confirmation')(journeyId))?.providerId).toBe(confirmation.sid);
  });
});

test('an opt-in call the provider placed but answered with a 500 is found in its call list, not placed again', async () => {
  const phone = freshPhone();
  stack.carrier.injectFault({ target: 'calls', request: 'create', status: 500, applied: true });
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'ivr', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  const { workflowId, runId } = parseJourneyId(start.body.journeyId)!;

  const sent = await until('the call to be found', () => sentEvent('request')(start.body.journeyId));
  const calls = stack.carrier.calls({ to: phone });
  expect(calls.map((c) => c.sid)).toEqual([sent.providerId]);
  expect(await outboxRow(`${workflowId}/${runId}/step0/request`)).toMatchObject({ status: 'sent', providerId: sent.providerId, attempts: 1, resolution: { outcome: 'found', how: 'call_list' } });
  await stack.request('POST', `/v1/journeys/${start.body.journeyId}/cancel`, {});
});

test('an ambiguous send to a contact who opted out meanwhile is never sent again', async () => {
  const phone = freshPhone();
  // The provider takes 3 s to answer 503 without creating anything; the contact opts out meanwhile.
  stack.carrier.injectFault({ ...created, status: 503, delayMs: 3_000 });
  const { journeyId, keys } = await startSmsJourney(phone);
  await until('the request to be at the provider', async () => (await outboxRow(`${keys}/step0/request`))?.status === 'claimed');
  const optOut = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, reason: 'asked the shop assistant', source: { kind: 'agent' } });
  expect(optOut.status).toBe(202);

  const row = await until('the ambiguous request to be resolved', async () => {
    const r = await outboxRow(`${keys}/step0/request`);
    return r?.resolution ? r : undefined;
  });
  expect(row).toMatchObject({ attempts: 1, resolution: { outcome: 'gave_up', how: 'send_gate' } });
  await waitForJourneyStatus(stack, journeyId, 'opted_out', 30_000);
  // Longer than the retry's wait before it would ask the provider and send again.
  await sleep(7_000);
  expect(stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound')).toEqual([]);
  expect(await outboxRow(`${keys}/step0/request`)).toMatchObject({ attempts: 1, resolution: { outcome: 'gave_up' } });
});
