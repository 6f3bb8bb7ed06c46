import { recordInboundMessage } from '../../store/inbound';
import { recordJourneyBegin } from '../../store/journeys';
import { blockMessaging } from '../../store/blocks';
import { contactIdOf } from '../../store/models';
import type { InboundMessageInput } from '../../workflows/inbound/contract';
import { storeForFile } from '../harness/store';

/**
 * The contact writes that save a read or a write: a journey's begin answers the contact as it wrote
 * it (the send gate reads nothing more), and an inbound message writes the contact only where nothing
 * else has or will; against the real MongoDB-compatible server.
 */

jest.setTimeout(60_000);

const storeOf = storeForFile();

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
  const created = await recordJourneyBegin(storeOf(), first);
  expect(created).toMatchObject({ _id: first.contactId, phone, locale: 'fr', messaging: 'allowed', journeysBegun: 1 });
  expect(created?.lastRequestAt).toBeInstanceOf(Date);
  expect(await storeOf().journeys.findById(first.journeyId).lean()).toMatchObject({ status: 'active', contactId: first.contactId });

  await blockMessaging(storeOf(), { businessId: 'acme', contactId: first.contactId, phone, at: new Date() }, 0);
  const again = await recordJourneyBegin(storeOf(), beginOf(phone));
  expect(again).toMatchObject({ journeysBegun: 2, messaging: 'opted_out' });
  expect(again).toEqual(await storeOf().contacts.findById(first.contactId).lean());
});

function inboundOf(phone: string, channel: 'sms' | 'whatsapp'): InboundMessageInput {
  n++;
  return { messageSid: `SMinbound${n}`, businessId: 'acme', contactId: contactIdOf('acme', phone), phone, channel, text: 'YES', intent: 'yes', receivedAt: new Date().toISOString(), payload: { Body: 'YES' } };
}

test('an SMS answer a journey took is kept without a contact write; anything else writes down its contact, a WhatsApp message with its window', async () => {
  const toJourney = inboundOf('+14155550933', 'sms');
  await recordInboundMessage(storeOf(), toJourney, 'journey');
  expect(await storeOf().inbound.findById(toJourney.messageSid).lean()).toMatchObject({ routedTo: 'journey', contactId: toJourney.contactId });
  expect(await storeOf().contacts.findById(toJourney.contactId).lean()).toBeNull();

  const unknown = inboundOf('+14155550934', 'sms');
  await recordInboundMessage(storeOf(), unknown, 'inbound_workflow');
  expect(await storeOf().contacts.findById(unknown.contactId).lean()).toMatchObject({ phone: unknown.phone, messaging: 'allowed' });

  const whatsapp = inboundOf('+14155550935', 'whatsapp');
  await recordInboundMessage(storeOf(), whatsapp, 'journey');
  expect(await storeOf().contacts.findById(whatsapp.contactId).lean()).toMatchObject({ phone: whatsapp.phone, lastWhatsappInboundAt: new Date(whatsapp.receivedAt) });
  // An older message does not close a window a newer one opened.
  await recordInboundMessage(storeOf(), { ...whatsapp, messageSid: `${whatsapp.messageSid}-old`, receivedAt: new Date(Date.now() - 60_000).toISOString() }, 'journey');
  expect(await storeOf().contacts.findById(whatsapp.contactId).lean()).toMatchObject({ lastWhatsappInboundAt: new Date(whatsapp.receivedAt) });
});
