import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { handOverPendingEvents } from '../../services/journey-events';
import { contactIdOf } from '../../store/models';
import { consentsOf, postAsTwilio } from '../harness/contact';
import { startCutOffApi, type CutOffApi } from '../harness/cut-off-api';
import { startTestStack, TEST_AUTH_TOKEN, type TestStack } from '../harness/stack';
import { waitForCampaign } from '../harness/stack-queries';
import { eventually } from '../harness/wait';

/**
 * Erasure refuses with 409, changing nothing, while something could still write the person back: an
 * opt-out being recorded, messages from them waiting for Temporal, a campaign holding their row
 * (services/erasure.ts). Each refusal names its reason; the same request succeeds once the cause is gone.
 */

jest.setTimeout(90_000);

const SMS_SENDER = '+1500555006';
const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');

let stack: TestStack;
let cutOff: CutOffApi;
let cutOffUrl: string;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'erase409', businessesFile: fastBusinesses });
  // The same API with a Temporal it cannot reach: what it is sent is kept in the store for later.
  cutOff = await startCutOffApi(stack);
  cutOffUrl = cutOff.url;
});
afterAll(async () => {
  await cutOff?.close();
  await stack?.close();
});

/** POST /v1/contacts/erase with its Retry-After header, which stack.request does not return. */
async function erase(businessId: string, phone: string, requestId: string) {
  const res = await fetch(`${stack.apiUrl}/v1/contacts/erase`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ businessId, phone, requestId }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

/** What an erasure would change about one person: it must be the same after a refusal. */
async function heldAbout(businessId: string, phone: string) {
  const contactId = contactIdOf(businessId, phone);
  const raw = (name: string) => stack.store.connection.collection<any>(name);
  return {
    contactPhone: (await stack.store.contacts.findById(contactId).lean())?.phone ?? null,
    ledger: (await stack.store.consentEvents.find({ contactId }).lean()).map((e) => [e.type, e.category, e.phone ?? null]).sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
    outboxRecipients: (await stack.store.outbox.find({ contactId }).lean()).map((o) => o.to),
    pendingEvents: (await raw('events_pending').find({ 'event.input.contactId': contactId }).toArray()).map((e) => e.event.input.phone ?? null),
    campaignRows: (await raw('campaign_row_chunks').find({ 'rows.contactId': contactId }).toArray()).flatMap((c) => c.rows.filter((r: any) => r.contactId === contactId).map((r: any) => r.phone ?? null)),
    blocked: (await raw('contact_blocks').countDocuments({ _id: contactId })) > 0,
    suppressions: await raw('erased_suppressions').countDocuments({ businessId }),
    erasureRequests: await raw('request_ids').countDocuments({ _id: { $regex: `^erase\\.${businessId}\\.` } }),
  };
}

test('while an opt-out is still being recorded: 409 optout_in_progress with Retry-After, nothing erased; afterwards the same request erases', async () => {
  const phone = '+14155557301';
  // The opt-out writes its ledger events, then waits on its confirmation, which the carrier answers 8 s late.
  stack.carrier.injectFault({ target: 'messages', request: 'create', delayMs: 8_000 });
  await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' });
  // The confirmation goes out as soon as the events are written; its outbox row is there while the carrier holds it.
  const confirming = async () => (await stack.store.outbox.countDocuments({ contactId: contactIdOf('acme', phone), purpose: 'optout_confirmation' })) === 1;
  await eventually('the opt-out recorded, its confirmation at the carrier', async () => (await consentsOf(stack, phone)).events.filter((e: any) => e.type === 'opted_out').length === 3 && (await confirming()), 10_000);
  const before = await heldAbout('acme', phone);
  expect(before.contactPhone).toBe(phone);

  const refused = await erase('acme', phone, 'dsr-409-optout');
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ error: 'optout_in_progress', message: expect.stringContaining('opt-out of this contact is still being recorded') });
  expect(refused.retryAfter).toBe('5');
  expect(await heldAbout('acme', phone)).toEqual(before);

  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).find((m) => m.renderedText.includes('unsubscribed')), 20_000);
  await eventually('the opt-out finished', async () => (await erase('acme', phone, 'dsr-409-optout')).status === 200, 20_000);
  const after = await heldAbout('acme', phone);
  expect(after.contactPhone).toBeNull();
  expect(after.ledger.every(([, , p]) => p === null)).toBe(true);
  expect(after.suppressions).toBe(before.suppressions + 1);
});

test('while messages from the person wait for Temporal: 409 events_pending, nothing erased; once handed over the same request erases', async () => {
  const phone = '+14155557302';
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: `AC${'ab'.repeat(16)}`, From: phone, To: SMS_SENDER, Body: 'hello, is this Acme?', NumMedia: '0' };
  expect((await postAsTwilio(stack.apiUrl, '/webhooks/twilio/messaging', params, TEST_AUTH_TOKEN, cutOffUrl)).status).toBe(200);
  const before = await heldAbout('acme', phone);
  expect(before.pendingEvents).toEqual([phone]);

  const refused = await erase('acme', phone, 'dsr-409-pending');
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ error: 'events_pending', message: expect.stringContaining('1 messages from this contact wait for the workflow service') });
  expect(refused.retryAfter).toBe('15');
  expect(await heldAbout('acme', phone)).toEqual(before);

  await handOverPendingEvents({ client: stack.client, store: stack.store, businesses: stack.businesses, taskQueue: stack.taskQueue, publicBaseUrl: stack.apiUrl, pageTokenSecret: 'unused' }, stack.api.log);
  expect((await heldAbout('acme', phone)).pendingEvents).toEqual([]);
  const erased = await erase('acme', phone, 'dsr-409-pending');
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({ existing: false, contactId: contactIdOf('acme', phone) });
});

/** An Etc/GMT zone where the local hour is now `hour` (Etc/GMT-3 is UTC+3). */
function zoneWhereItIs(hour: number): string {
  let offset = (hour - new Date().getUTCHours() + 24) % 24;
  if (offset > 12) offset -= 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

test('while a campaign holds the person\'s row: 409 campaign_running naming it, nothing erased; once cancelled the same request erases', async () => {
  const phone = '+14155557303';
  // Two in the morning where the contact lives: their row waits for the end of the business's quiet hours.
  const r = await stack.request('POST', '/v1/campaigns', { businessId: 'nightowl', name: 'held row', categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }], contacts: [{ phone, timezone: zoneWhereItIs(2), name: 'Night Reader' }] });
  expect(r.status).toBe(202);
  const { campaignId } = r.body;
  await waitForCampaign(stack, campaignId, (c) => c.status === 'running' && c.deferredByQuietHours === 1);
  const before = await heldAbout('nightowl', phone);
  expect(before.campaignRows).toEqual([phone]);

  const refused = await erase('nightowl', phone, 'dsr-409-campaign');
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ error: 'campaign_running', message: expect.stringContaining(`campaign ${campaignId}, still running`) });
  expect(await heldAbout('nightowl', phone)).toEqual(before);

  expect((await stack.request('POST', `/v1/campaigns/${campaignId}/cancel`, {})).status).toBe(202);
  await waitForCampaign(stack, campaignId, (c) => c.status === 'cancelled');
  const erased = await erase('nightowl', phone, 'dsr-409-campaign');
  expect(erased.status).toBe(200);
  expect((await heldAbout('nightowl', phone)).campaignRows).toEqual([null]);
});
