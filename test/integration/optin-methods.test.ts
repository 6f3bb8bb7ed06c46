import { randomBytes } from 'node:crypto';
import { contactIdOf } from '../../store/models';
import { consentsOf, freshPhones, postAsTwilio, waitForConsents, waitForWhatsappWindow } from '../harness/contact';
import { startTestStack, TEST_ACCOUNT_SID, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/** Opt-in methods where the contact or an agent starts: agent in-chat, paper form, inbound IVR, missed call. */

const WHATSAPP_SENDER = '+15005550007';
const VOICE_NUMBER = '+15005550008';
const QUICK_REPLY_CONTENT = 'HXacme0session0quick0reply00000004';
const CONFIRMATION_CONTENT = 'HXacme0optin0confirmation00000002';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'optinm' });
});
afterAll(async () => {
  await stack?.close();
});

const freshPhone = freshPhones('+1206555');

const callSid = () => `CA${randomBytes(16).toString('hex')}`;

const whatsappTo = (phone: string) => stack.carrier.messages({ to: `whatsapp:${phone}`, direction: 'outbound-api' });

function gatherActionOf(twiml: string): string {
  const m = /<Gather[^>]*action="([^"]+)"/.exec(twiml);
  if (!m) throw new Error(`no Gather in ${twiml}`);
  return m[1].replace(/&amp;/g, '&');
}

describe('support agent in-chat opt-in', () => {
  test('inside the 24-hour window: quick reply in the chat, Yes button, consent tied to agent and ticket', async () => {
    const phone = freshPhone();
    const hello = await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${WHATSAPP_SENDER}`, body: 'Where is my parcel?' });
    expect(hello.status).toBe(200);
    await waitForWhatsappWindow(stack, phone, { timeoutMs: 10_000 });

    const start = await stack.request('POST', '/v1/agent/optin', { businessId: 'acme', agentId: 'agent-7', ticketId: 'T-1234', phone, categories: ['order_updates'] });
    expect(start.status).toBe(202);
    const { journeyId } = start.body;

    const ask = await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
    expect(ask.contentSid).toBe(QUICK_REPLY_CONTENT);
    expect(ask.renderedText).toContain('Acme Outdoor Supplies');
    expect(ask.renderedText).toContain('Order updates');

    const tap = await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${WHATSAPP_SENDER}`, buttonPayload: 'yes', buttonText: 'Yes' });
    expect(tap.status).toBe(200);
    await waitForJourneyStatus(stack, journeyId, 'confirmed');

    const consents = await consentsOf(stack, phone);
    expect(consents.categories.find((c: any) => c.category === 'order_updates').status).toBe('opted_in');
    expect(consents.categories.find((c: any) => c.category === 'offers').status).toBe('none');
    const optIn = consents.events.find((e: any) => e.type === 'opted_in' && e.category === 'order_updates');
    expect(optIn.proof).toMatchObject({ method: 'whatsapp_button', channel: 'whatsapp', requestMode: 'session', requestProviderId: ask.sid, answerProviderId: tap.messageSid });
    expect(optIn.proof.source).toEqual({ kind: 'agent', reference: 'agent-7/T-1234' });

    const journey = await stack.store.journeys.findById(journeyId).lean();
    expect(journey?.source).toEqual({ kind: 'agent', reference: 'agent-7/T-1234' });
  });

  test('outside the window: 409 that says a template journey is needed, and nothing is sent', async () => {
    const stale = freshPhone();
    await stack.store.contacts.create({ _id: contactIdOf('acme', stale), businessId: 'acme', phone: stale, lastWhatsappInboundAt: new Date(Date.now() - 25 * 3_600_000) });
    const never = freshPhone();

    for (const phone of [stale, never]) {
      const r = await stack.request('POST', '/v1/agent/optin', { businessId: 'acme', agentId: 'agent-7', ticketId: 'T-99', phone, categories: ['offers'] });
      expect(r.status).toBe(409);
      expect(r.body.error).toBe('outside_service_window');
      expect(r.body.message).toMatch(/has not written on WhatsApp in the last 24 hours/);
      expect(r.body.message).toMatch(/POST \/v1\/journeys/);
    }
    expect(await stack.store.journeys.countDocuments({ contactId: { $in: [contactIdOf('acme', stale), contactIdOf('acme', never)] } })).toBe(0);
    expect(whatsappTo(stale)).toHaveLength(0);
  });

  test('a bad ticket id is a 400 naming the field', async () => {
    const r = await stack.request('POST', '/v1/agent/optin', { businessId: 'acme', agentId: 'agent-7', ticketId: 'T 1/2', phone: freshPhone(), categories: ['offers'] });
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i: any) => i.field)).toEqual(['ticketId']);
  });
});

describe('in person / on paper', () => {
  test('records consent with its evidence, confirms on WhatsApp once, and a repeated POST is a no-op', async () => {
    const phone = freshPhone();
    const documentRef = `paper-${randomBytes(4).toString('hex')}`;
    const signedAt = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const body = { businessId: 'acme', phone, categories: ['order_updates', 'offers'], evidence: { documentRef, signedAt, collectedBy: 'store #12, Jane Doe' } };

    const first = await stack.request('POST', '/v1/consents/offline', body);
    expect(first.status).toBe(202);
    expect(first.body.existing).toBe(false);

    const confirmation = await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
    expect(confirmation.contentSid).toBe(CONFIRMATION_CONTENT);
    const result = await stack.client.workflow.getHandle(first.body.directConsentId).result();
    expect(result).toMatchObject({ categories: ['order_updates', 'offers'], superseded: [], reallowed: false, confirmation: { outcome: 'sent', providerId: confirmation.sid } });

    const consents = await consentsOf(stack, phone);
    const status = Object.fromEntries(consents.categories.map((c: any) => [c.category, c.status]));
    expect(status).toEqual({ order_updates: 'opted_in', offers: 'opted_in', recommendations: 'none' });
    expect(consents.categories.find((c: any) => c.category === 'offers').confirmationMessageId).toBe(confirmation.sid);
    const optIns = consents.events.filter((e: any) => e.type === 'opted_in');
    expect(optIns).toHaveLength(2);
    expect(new Date(optIns[0].at).toISOString()).toBe(signedAt);
    expect(optIns[0].proof).toMatchObject({ method: 'offline_document', channel: 'in_person', businessName: 'Acme Outdoor Supplies', evidence: { documentRef, signedAt, collectedBy: 'store #12, Jane Doe' } });
    expect(consents.events.filter((e: any) => e.type === 'confirmation_sent')).toHaveLength(2);

    const again = await stack.request('POST', '/v1/consents/offline', body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ existing: true, directConsentId: first.body.directConsentId });
    await sleep(1000);
    expect(whatsappTo(phone)).toHaveLength(1);
    expect((await consentsOf(stack, phone)).events).toHaveLength(consents.events.length);
  });

  test('a contact who opted out and then signs is allowed again; a paper signed before the opt-out does not undo it', async () => {
    const phone = freshPhone();
    const optOut = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, reason: 'asked the shop assistant', source: { kind: 'agent' } });
    expect(optOut.status).toBe(202);
    // The block shows at once; wait for the ledger too, so the opt-out is wholly behind us.
    await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && c.categories.every((x: any) => x.status === 'opted_out'));
    const optOutAt = Date.now();

    const older = await stack.request('POST', '/v1/consents/offline', {
      businessId: 'acme',
      phone,
      categories: ['offers'],
      evidence: { documentRef: `old-${randomBytes(4).toString('hex')}`, signedAt: new Date(optOutAt - 3_600_000).toISOString(), collectedBy: 'store #3' },
    });
    expect(older.status).toBe(202);
    const olderResult = await stack.client.workflow.getHandle(older.body.directConsentId).result();
    expect(olderResult).toMatchObject({ categories: [], superseded: ['offers'], reallowed: false });
    expect((await consentsOf(stack, phone)).messaging).toBe('opted_out');
    expect(whatsappTo(phone).filter((m) => m.contentSid === CONFIRMATION_CONTENT)).toHaveLength(0);

    await sleep(20);
    const newer = await stack.request('POST', '/v1/consents/offline', {
      businessId: 'acme',
      phone,
      categories: ['offers'],
      evidence: { documentRef: `new-${randomBytes(4).toString('hex')}`, signedAt: new Date().toISOString(), collectedBy: 'store #3' },
    });
    expect(newer.status).toBe(202);
    const newerResult = await stack.client.workflow.getHandle(newer.body.directConsentId).result();
    expect(newerResult).toMatchObject({ categories: ['offers'], reallowed: true, confirmation: { outcome: 'sent' } });

    const consents = await consentsOf(stack, phone);
    expect(consents.messaging).toBe('allowed');
    expect(consents.categories.find((c: any) => c.category === 'offers').status).toBe('opted_in');
    expect(consents.categories.find((c: any) => c.category === 'order_updates').status).toBe('opted_out');
    const proofs = consents.events.filter((e: any) => e.type === 'opted_in').map((e: any) => e.proof.messaging);
    expect(proofs).toEqual([
      expect.objectContaining({ before: 'opted_out', reallowed: false, note: expect.stringMatching(/later opt-out stands/) }),
      expect.objectContaining({ before: 'opted_out', reallowed: true, note: expect.stringMatching(/allowed again/) }),
    ]);
    expect(whatsappTo(phone).filter((m) => m.contentSid === CONFIRMATION_CONTENT)).toHaveLength(1);
  });

  test('bad evidence is a 400 naming each field', async () => {
    const r = await stack.request('POST', '/v1/consents/offline', {
      businessId: 'acme',
      phone: freshPhone(),
      categories: ['offers'],
      evidence: { documentRef: 'paper-1', signedAt: 'last Tuesday', collectedBy: '' },
    });
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i: any) => i.field).sort()).toEqual(['evidence.collectedBy', 'evidence.signedAt']);
    expect(r.body.message).toMatch(/evidence\.signedAt: must be an ISO 8601 date-time/);

    const future = await stack.request('POST', '/v1/consents/offline', {
      businessId: 'acme',
      phone: freshPhone(),
      categories: ['offers'],
      evidence: { documentRef: 'paper-2', signedAt: new Date(Date.now() + 86_400_000).toISOString(), collectedBy: 'store #1' },
    });
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/evidence\.signedAt: must not be in the future/);
  });
});

describe('calls to the business voice number', () => {
  test('inbound IVR: the menu names the business and categories; key 1 is IVR consent, then the WhatsApp confirmation', async () => {
    const phone = freshPhone();
    const sid = callSid();
    const callParams = { CallSid: sid, AccountSid: TEST_ACCOUNT_SID, From: phone, To: VOICE_NUMBER, CallStatus: 'ringing', Direction: 'inbound' };

    const unsigned = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound', callParams, 'not-the-auth-token');
    expect(unsigned.status).toBe(403);

    const menu = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound', callParams);
    expect(menu.status).toBe(200);
    expect(menu.text).toContain('Press 1 to receive WhatsApp messages from Acme Outdoor Supplies about Order updates, Offers and promotions and Product recommendations');

    const action = gatherActionOf(menu.text);
    const pressed = await postAsTwilio(stack.apiUrl, action.slice(stack.apiUrl.length), { ...callParams, CallStatus: 'in-progress', Digits: '1' });
    expect(pressed.status).toBe(200);
    expect(pressed.text).toContain('will confirm on WhatsApp');

    const confirmation = await stack.carrier.waitFor(() => whatsappTo(phone)[0], 10_000);
    expect(confirmation.contentSid).toBe(CONFIRMATION_CONTENT);
    const consents = await waitForConsents(stack, phone, (c) => c.events.filter((e: any) => e.type === 'confirmation_sent').length === 3);
    expect(consents.categories.every((c: any) => c.status === 'opted_in')).toBe(true);
    const optIn = consents.events.find((e: any) => e.type === 'opted_in');
    expect(optIn.proof).toMatchObject({ method: 'ivr_keypress', channel: 'ivr', source: { kind: 'inbound_ivr', reference: sid }, evidence: { callSid: sid, digits: '1' } });
    expect(optIn.proof.shown).toContain('Press 1 to receive WhatsApp messages from Acme Outdoor Supplies');
    expect(optIn.proof.evidence.twiml).toBe(menu.text);

    const ended = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound-status', { ...callParams, CallStatus: 'completed' });
    expect(ended.json).toMatchObject({ outcome: 'ignored', reason: 'the caller opted in during the call' });
    expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
  });

  test('a call that ends without key 1 counts as missed: another key replays the menu once, then the caller is asked by SMS', async () => {
    const phone = freshPhone();
    const callParams = { CallSid: callSid(), AccountSid: TEST_ACCOUNT_SID, From: phone, To: VOICE_NUMBER, CallStatus: 'in-progress', Direction: 'inbound' };
    const menu = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound', callParams);
    const replay = await postAsTwilio(stack.apiUrl, gatherActionOf(menu.text).slice(stack.apiUrl.length), { ...callParams, Digits: '5' });
    expect(replay.text).toContain('Press 1 to receive WhatsApp messages');
    const goodbye = await postAsTwilio(stack.apiUrl, gatherActionOf(replay.text).slice(stack.apiUrl.length), { ...callParams, Digits: '5' });
    expect(goodbye.text).toContain('<Hangup/>');

    const ended = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound-status', { ...callParams, CallStatus: 'completed' });
    expect(ended.json.outcome).toBe('journey_started');
    const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
    expect(request.channel).toBe('sms');
    expect((await consentsOf(stack, phone)).events).toHaveLength(0);
  });

  test('missed call: one opt-in journey per frequency-cap window', async () => {
    const phone = freshPhone();
    const first = { CallSid: callSid(), AccountSid: TEST_ACCOUNT_SID, From: phone, To: VOICE_NUMBER, CallStatus: 'no-answer', Direction: 'inbound' };

    const started = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound-status', first);
    expect(started.status).toBe(200);
    expect(started.json.outcome).toBe('journey_started');
    const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
    expect(request.body).toContain('Acme Outdoor Supplies');
    const journey = await stack.store.journeys.findById(started.json.journeyId).lean();
    expect(journey?.source).toEqual({ kind: 'missed_call', reference: first.CallSid });

    const redelivered = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound-status', first);
    expect(redelivered.json.outcome).not.toBe('journey_started');

    const cancelled = await stack.request('POST', `/v1/journeys/${started.json.journeyId}/cancel`, { reason: 'test: let the cap decide' });
    expect(cancelled.status).toBe(200);
    const again = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/voice/inbound-status', { ...first, CallSid: callSid(), CallStatus: 'busy' });
    expect(again.json.outcome).toBe('frequency_capped');

    await sleep(500);
    expect(await stack.store.journeys.countDocuments({ contactId: journey?.contactId })).toBe(1);
    expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
  });
});
