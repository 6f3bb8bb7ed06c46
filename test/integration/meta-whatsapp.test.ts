import { createHmac } from 'node:crypto';
import { BUTTON_PAYLOADS } from '../../domain/keywords';
import { contactIdOf } from '../../store/models';
import { numberStateOf } from '../../store/whatsapp-numbers';
import { whatsappTierUsageQuery, whatsappTierWorkflowId } from '../../workflows/campaign/tier-contract';
import { numberedPhones } from '../harness/contact';
import { startTestStack, TEST_META, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus, workflowExists } from '../harness/stack-queries';
import { eventually, sleep } from '../harness/wait';

/**
 * The demo business `bloom` sends WhatsApp through Meta's Cloud API: every send below goes over HTTP to
 * the local carrier's Graph API endpoint, and every answer comes back as a Meta webhook signed with
 * the app secret, to POST /webhooks/meta. Tests run side by side, each with its own contact.
 */

const BLOOM = { whatsapp: '+15005550017', phoneNumberId: '106540352242922' };
const phoneNo = numberedPhones(300);
const SLOW = 30_000;

jest.setTimeout(90_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'meta' });
});
afterAll(async () => {
  await stack?.close();
});

async function consents(phone: string) {
  const r = await stack.request('GET', `/v1/consents?businessId=bloom&phone=${encodeURIComponent(phone)}`);
  expect(r.status).toBe(200);
  return { ...r.body, byCategory: Object.fromEntries(r.body.categories.map((c: any) => [c.category, c.status])) as Record<string, string> };
}

async function waitForConsents(phone: string, ready: (c: Awaited<ReturnType<typeof consents>>) => boolean) {
  const until = Date.now() + SLOW;
  for (;;) {
    const c = await consents(phone);
    if (ready(c)) return c;
    if (Date.now() > until) throw new Error(`consents never got ready: ${JSON.stringify(c)}`);
    await sleep(150);
  }
}

const toContact = (phone: string) => stack.carrier.messages({ to: `whatsapp:${phone}` });
const fromContact = (phone: string) => ({ from: `whatsapp:${phone}`, to: `whatsapp:${BLOOM.whatsapp}` });

/** POSTs a body to /webhooks/meta as Meta would, or with the signature given. */
async function postAsMeta(body: string, signature: string | null = `sha256=${createHmac('sha256', TEST_META.appSecret).update(body).digest('hex')}`) {
  const res = await fetch(`${stack.apiUrl}/webhooks/meta`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) }, body });
  return { status: res.status, text: await res.text() };
}

async function confirmedOn(phone: string, categories: string[]) {
  const journeyId = await startJourney(stack, { businessId: 'bloom', contact: { phone }, categories, plan: [{ channel: 'whatsapp', waitFor: '45s' }] });
  const request = await stack.carrier.waitFor(() => toContact(phone)[0], SLOW);
  await stack.carrier.sendInbound({ ...fromContact(phone), buttonPayload: BUTTON_PAYLOADS.yes, buttonText: 'Yes' });
  await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  return { journeyId, request };
}

test('the webhook subscription challenge is answered only with our verify token', async () => {
  const q = (token: string) => `${stack.apiUrl}/webhooks/meta?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`;
  const ok = await fetch(q(TEST_META.verifyToken));
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe('1158201444');
  expect((await fetch(q('not-the-verify-token-at-all'))).status).toBe(403);
  const missing = await fetch(`${stack.apiUrl}/webhooks/meta?hub.mode=subscribe&hub.challenge=1`);
  expect(missing.status).toBe(400);
  expect(await missing.text()).toContain('hub.verify_token');
});

test.concurrent('a journey confirmed over Meta: template with quick replies, a button reply, the wamid and template in the proof, the confirmation', async () => {
  const phone = phoneNo(1);
  const { journeyId, request } = await confirmedOn(phone, ['order_updates', 'offers']);
  expect(request).toMatchObject({ provider: 'meta', metaType: 'template', contentSid: 'optin_request (en)', from: `whatsapp:${BLOOM.whatsapp}` });
  expect(request.sid).toMatch(/^wamid\./);
  expect(request.renderedText).toContain('Bloom Garden Centre: may we send you Order updates and Offers and promotions on WhatsApp?');
  expect(request.buttons).toEqual([
    { text: 'Yes', payload: 'yes' },
    { text: 'No', payload: 'no' },
    { text: 'Stop', payload: 'stop' },
  ]);
  const reply = stack.carrier.metaWebhooks({ field: 'messages' }).map((d) => JSON.parse(d.body).entry[0].changes[0].value).find((v) => v.messages?.[0]?.from === phone.slice(1));
  expect(reply.messages[0]).toMatchObject({ type: 'button', button: { payload: 'yes', text: 'Yes' }, context: { id: request.sid } });

  const confirmation = await stack.carrier.waitFor(() => toContact(phone).find((m) => m.contentSid === 'optin_confirmation (en)'), SLOW);
  expect(confirmation.renderedText).toContain("You're subscribed to Order updates and Offers and promotions from Bloom Garden Centre");
  const c = await waitForConsents(phone, (v) => v.categories.some((x: any) => x.confirmationMessageId));
  expect(c.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_in', newsletter: 'none' });
  expect(c.categories.find((x: any) => x.category === 'offers')).toMatchObject({ journeyId, confirmationMessageId: confirmation.sid });
  const optIn = c.events.find((e: any) => e.type === 'opted_in' && e.category === 'offers');
  expect(optIn.proof).toMatchObject({
    method: 'whatsapp_button',
    requestMode: 'template',
    requestProvider: 'meta',
    requestTemplate: { name: 'optin_request', language: 'en' },
    requestProviderId: request.sid,
    shown: request.renderedText,
  });
  expect(optIn.proof.answerProviderId).toMatch(/^wamid\./);
});

test.concurrent('inside the 24-hour window the request is an interactive message, answered by an interactive button reply', async () => {
  const phone = phoneNo(2);
  await stack.carrier.sendInbound({ ...fromContact(phone), body: 'Hello, do you have tulips?' });
  await eventually('the window to open', async () => (await stack.store.contacts.findById(contactIdOf('bloom', phone)).lean())?.lastWhatsappInboundAt, SLOW);
  const journeyId = await startJourney(stack, { businessId: 'bloom', contact: { phone, locale: 'fr' }, categories: ['newsletter'], plan: [{ channel: 'whatsapp', waitFor: '45s' }] });
  const request = await stack.carrier.waitFor(() => toContact(phone).find((m) => m.direction === 'outbound-api'), SLOW);
  expect(request).toMatchObject({ provider: 'meta', metaType: 'interactive', contentSid: null });
  expect(request.buttons).toEqual([
    { payload: 'yes', text: 'Oui' },
    { payload: 'no', text: 'Non' },
  ]);
  await stack.carrier.waitFor(() => toContact(phone).find((m) => m.sid === request.sid && m.status === 'delivered'), SLOW);
  await stack.carrier.sendInbound({ ...fromContact(phone), buttonPayload: 'yes', buttonText: 'Oui' });
  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed', SLOW);
  expect(done.events.find((e: any) => e.kind === 'request:sent')).toMatchObject({ channel: 'whatsapp', detail: 'session', providerId: request.sid });
  const answer = stack.carrier.metaWebhooks({ field: 'messages' }).map((d) => JSON.parse(d.body).entry[0].changes[0].value.messages?.[0]).find((m) => m?.from === phone.slice(1) && m.type === 'interactive');
  expect(answer.interactive).toEqual({ type: 'button_reply', button_reply: { id: 'yes', title: 'Oui' } });
});

test.concurrent('STOP written on Meta WhatsApp opts out of every category, with one confirmation', async () => {
  const phone = phoneNo(3);
  await confirmedOn(phone, ['order_updates']);
  await stack.carrier.waitFor(() => toContact(phone).find((m) => m.contentSid === 'optin_confirmation (en)'), SLOW);
  await stack.carrier.sendInbound({ ...fromContact(phone), body: 'STOP' });
  const c = await waitForConsents(phone, (v) => Object.values(v.byCategory).every((s) => s === 'opted_out'));
  expect(c.messaging).toBe('opted_out');
  await stack.carrier.waitFor(() => toContact(phone).find((m) => m.contentSid === 'optout_confirmation (en)'), SLOW);
  await sleep(1_500);
  expect(toContact(phone).filter((m) => m.contentSid === 'optout_confirmation (en)')).toHaveLength(1);
});

test.concurrent('a marketing stop in WhatsApp (user_preferences) ends marketing categories only; delivered again it changes nothing; resume opts in to nothing', async () => {
  const phone = phoneNo(4);
  await confirmedOn(phone, ['order_updates', 'offers']);
  const result = await stack.carrier.setMarketingPreference(phone, BLOOM.whatsapp, 'stop');
  expect(result.status).toBe(200);
  const c = await waitForConsents(phone, (v) => v.byCategory.offers === 'opted_out');
  expect(c.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', newsletter: 'opted_out' });
  expect(c.messaging).toBe('allowed');
  const stops = c.events.filter((e: any) => e.type === 'opted_out');
  expect(stops.map((e: any) => e.category).sort()).toEqual(['newsletter', 'offers']);
  for (const e of stops) {
    expect(e.proof).toMatchObject({ method: 'provider', channel: 'provider', reference: 'user_preferences', allCategories: false });
    expect(e.proof.inbound.preference).toMatchObject({ wa_id: phone.slice(1), category: 'marketing_messages', value: 'stop' });
  }

  const delivered = stack.carrier.metaWebhooks({ field: 'user_preferences' }).find((d) => d.body.includes(phone.slice(1)))!;
  const again = await postAsMeta(delivered.body, delivered.signature);
  expect(again.status).toBe(200);
  const after = await consents(phone);
  expect(after.events).toHaveLength(c.events.length);
  expect(after.byCategory).toEqual(c.byCategory);

  expect((await stack.carrier.setMarketingPreference(phone, BLOOM.whatsapp, 'resume')).status).toBe(200);
  const resumed = await consents(phone);
  expect(resumed.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', newsletter: 'opted_out' });
  expect(resumed.events.filter((e: any) => e.type === 'marketing_resumed')).toHaveLength(1);
});

test.concurrent('WhatsApp refusing a marketing template with 131050 ends marketing consent only, with the provider as source', async () => {
  const phone = phoneNo(5);
  // Utility consent given on paper: a journey asking first would hold this one's request back for the business's frequency cap.
  const offline = await stack.request('POST', '/v1/consents/offline', { businessId: 'bloom', phone, categories: ['order_updates'], evidence: { documentRef: `paper-${phone}`, signedAt: new Date(Date.now() - 86_400_000).toISOString(), collectedBy: 'store #5' } });
  expect(offline.status).toBe(202);
  await stack.carrier.waitFor(() => toContact(phone).find((m) => m.contentSid === 'optin_confirmation (en)'), SLOW);
  await waitForConsents(phone, (v) => v.byCategory.order_updates === 'opted_in');
  stack.carrier.setRecipientBehaviour(phone, { metaFailWith: 131050 });
  const journeyId = await startJourney(stack, { businessId: 'bloom', contact: { phone }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '45s' }] });
  const refused = await stack.carrier.waitFor(() => toContact(phone).find((m) => m.status === 'failed'), SLOW);
  expect(refused.errorCode).toBe(131050);
  const c = await waitForConsents(phone, (v) => v.byCategory.offers === 'opted_out');
  expect(c.byCategory).toEqual({ order_updates: 'opted_in', offers: 'opted_out', newsletter: 'opted_out' });
  const stop = c.events.find((e: any) => e.type === 'opted_out' && e.category === 'offers');
  expect(stop.proof).toMatchObject({ method: 'provider', reference: refused.sid });
  expect(stop.proof.inbound.status).toMatchObject({ id: refused.sid, status: 'failed', errors: [{ code: 131050 }] });
  const journey = await stack.request('GET', `/v1/journeys/${journeyId}`);
  expect(journey.body.events.some((e: any) => e.kind === 'status:failed' && e.detail === 'error 131050')).toBe(true);
});

test.concurrent('a forged, tampered or missing X-Hub-Signature-256 is refused with 403 and changes nothing; the same body signed acts', async () => {
  const phone = phoneNo(6);
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: BLOOM.whatsapp.slice(1), phone_number_id: BLOOM.phoneNumberId }, messages: [{ from: phone.slice(1), id: `wamid.forged-stop-${phone.slice(1)}`, timestamp: '1764600000', type: 'text', text: { body: 'STOP' } }] } }] }],
  });
  const signedWithAnotherSecret = `sha256=${createHmac('sha256', 'not-the-app-secret-of-this-app').update(body).digest('hex')}`;
  const signedForAnotherBody = `sha256=${createHmac('sha256', TEST_META.appSecret).update(body.replace('STOP', 'YES')).digest('hex')}`;
  expect((await postAsMeta(body, signedWithAnotherSecret)).status).toBe(403);
  expect((await postAsMeta(body, signedForAnotherBody)).status).toBe(403);
  expect((await postAsMeta(body, `sha256=${'0'.repeat(64)}`)).status).toBe(403);
  expect((await postAsMeta(body, null)).status).toBe(403);
  await sleep(1_000);
  const contactId = contactIdOf('bloom', phone);
  expect(await stack.store.contacts.findById(contactId).lean()).toBeNull();
  expect(await stack.store.consentEvents.countDocuments({ contactId })).toBe(0);
  expect(await workflowExists(stack, `optout.whatsapp.wamid.forged-stop-${phone.slice(1)}`)).toBe(false);

  expect((await postAsMeta(body)).status).toBe(200);
  await waitForConsents(phone, (v) => v.messaging === 'opted_out');
});

test.concurrent('a repeated inbound wamid changes nothing: one opt-out, one confirmation', async () => {
  const phone = phoneNo(8);
  await stack.carrier.sendInbound({ ...fromContact(phone), body: 'STOP' });
  await waitForConsents(phone, (v) => v.messaging === 'opted_out');
  const first = stack.carrier.metaWebhooks({ field: 'messages' }).find((d) => JSON.parse(d.body).entry[0].changes[0].value.messages?.[0]?.from === phone.slice(1))!;
  const wamid = JSON.parse(first.body).entry[0].changes[0].value.messages[0].id;
  expect((await postAsMeta(first.body, first.signature)).status).toBe(200);
  expect((await postAsMeta(first.body, first.signature)).status).toBe(200);
  await stack.carrier.waitFor(() => toContact(phone).find((m) => m.contentSid === 'optout_confirmation (en)'), SLOW);
  await sleep(1_500);
  expect(toContact(phone).filter((m) => m.contentSid === 'optout_confirmation (en)')).toHaveLength(1);
  expect(await workflowExists(stack, `optout.whatsapp.${wamid}`)).toBe(true);
  const c = await consents(phone);
  expect(c.events.filter((e: any) => e.type === 'opted_out')).toHaveLength(3);
});

test('quality and messaging-limit changes of the number are kept once each', async () => {
  expect((await stack.carrier.updateMetaNumber(BLOOM.phoneNumberId, { quality: 'YELLOW' })).status).toBe(200);
  expect(await numberStateOf(stack.store, 'bloom')).toMatchObject({ flagged: true, lastEvent: 'FLAGGED' });
  expect((await stack.carrier.updateMetaNumber(BLOOM.phoneNumberId, { tier: 'TIER_10K' })).status).toBe(200);
  expect(await numberStateOf(stack.store, 'bloom')).toMatchObject({ lastEvent: 'UPGRADE', currentLimit: 'TIER_10K' });
  // The next journey that opens a conversation draws from the tier Meta reported, not the configured 250.
  await startJourney(stack, { businessId: 'bloom', contact: { phone: phoneNo(20) }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '30s' }] });
  const usage = await stack.client.workflow.getHandle(whatsappTierWorkflowId('bloom')).query(whatsappTierUsageQuery);
  expect(usage.limit).toBe(10_000);
  const upgrade = stack.carrier.metaWebhooks({ field: 'phone_number_quality_update' }).at(-1)!;
  expect((await postAsMeta(upgrade.body, upgrade.signature)).status).toBe(200);
  const events = await stack.store.connection.collection('whatsapp_number_events').countDocuments({ businessId: 'bloom' });
  expect(events).toBe(2);
  expect((await stack.carrier.sendAccountUpdate(BLOOM.phoneNumberId, 'ACCOUNT_VIOLATION')).status).toBe(200);
  expect(await numberStateOf(stack.store, 'bloom')).toMatchObject({ lastEvent: 'ACCOUNT_VIOLATION' });
});
