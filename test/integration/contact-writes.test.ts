import { recordInboundMessage } from '../../store/inbound';
import { recordJourneyBegin } from '../../store/journeys';
import { blockMessaging } from '../../store/blocks';
import { connectStore, contactIdOf, type Store } from '../../store/models';
import type { InboundMessageInput } from '../../workflows/inbound/contract';
import { testMongoUri, uniqueName } from '../harness/servers';

/**
 * The contact writes that save a read or a write: a journey's begin answers the contact as it wrote
 * it (the send gate reads nothing more), and an inbound message writes the contact only where nothing
 * else has or will; against the real MongoDB-compatible server.
 */

jest.setTimeout(60_000);

let store: Store;
beforeAll(async () => {
  store = await connectStore(testMongoUri(uniqueName('db')));
});
afterAll(async () => {
  await store?.connection.dropDatabase();
  await store?.connection.close();
});

let n = 0;

function beginOf(phone: string) {
  n++;
  const contactId = contactIdOf('acme', phone);
  const workflowId = `journey.acme.${contactId}`;
  return { journeyId: `${workflowId}.run${n}`, workflowId, runId: `run${n}`, businessId: 'acme', contactId, contact: { phone, locale: 'fr' }, categories: ['offers'], plan: [{ channel: 'sms' as const, waitForMs: 60_000, remindAfterMs: [] }], requestedAt: new Date().toISOString() };
}

test("a journey's begin answers the contact as it wrote it: created, counted, asked now, and blocked when it is", async () => {
  const phone = '+14155550941';
  const first = beginOf(phone);
  const created = await recordJourneyBegin(store, first);
  expect(created).toMatchObject({ _id: first.contactId, phone, locale: 'fr', messaging: 'allowed', journeysBegun: 1 });
  expect(created?.lastRequestAt).toBeInstanceOf(Date);
  expect(await store.journeys.findById(first.journeyId).lean()).toMatchObject({ status: 'active', contactId: first.contactId });

  await blockMessaging(store, { businessId: 'acme', contactId: first.contactId, phone, at: new Date() }, 0);
  const again = await recordJourneyBegin(store, beginOf(phone));
  expect(again).toMatchObject({ journeysBegun: 2, messaging: 'opted_out' });
  expect(again).toEqual(await store.contacts.findById(first.contactId).lean());
});

function inboundOf(phone: string, channel: 'sms' | 'whatsapp'): InboundMessageInput {
  n++;
  return { messageSid: `SMinbound${n}`, businessId: 'acme', contactId: contactIdOf('acme', phone), phone, channel, text: 'YES', intent: 'yes', receivedAt: new Date().toISOString(), payload: { Body: 'YES' } };
}

test('an SMS answer a journey took is kept without a contact write; anything else writes down its contact, a WhatsApp message with its window', async () => {
  const toJourney = inboundOf('+14155550933', 'sms');
  await recordInboundMessage(store, toJourney, 'journey');
  expect(await store.inbound.findById(toJourney.messageSid).lean()).toMatchObject({ routedTo: 'journey', contactId: toJourney.contactId });
  expect(await store.contacts.findById(toJourney.contactId).lean()).toBeNull();

  const unknown = inboundOf('+14155550934', 'sms');
  await recordInboundMessage(store, unknown, 'inbound_workflow');
  expect(await store.contacts.findById(unknown.contactId).lean()).toMatchObject({ phone: unknown.phone, messaging: 'allowed' });

  const whatsapp = inboundOf('+14155550935', 'whatsapp');
  await recordInboundMessage(store, whatsapp, 'journey');
  expect(await store.contacts.findById(whatsapp.contactId).lean()).toMatchObject({ phone: whatsapp.phone, lastWhatsappInboundAt: new Date(whatsapp.receivedAt) });
  // An older message does not close a window a newer one opened.
  await recordInboundMessage(store, { ...whatsapp, messageSid: `${whatsapp.messageSid}-old`, receivedAt: new Date(Date.now() - 60_000).toISOString() }, 'journey');
  expect(await store.contacts.findById(whatsapp.contactId).lean()).toMatchObject({ lastWhatsappInboundAt: new Date(whatsapp.receivedAt) });
});
