import path from 'node:path';
import { loadBusinesses } from '../../lib/businesses';
import { contactIdOf } from '../../store/models';
import { recordOptOutEvents } from '../../store/optout-ledger';
import { setCurrentConsent } from '../../store/queries';
import type { OptOutInput } from '../../workflows/optout/contract';
import { storeForFile } from '../harness/store';

/**
 * The opt-out's ledger write as its second caller makes it (the workflow after the acknowledgement),
 * against the real MongoDB-compatible server: what it leaves alone and what it still repairs.
 */

jest.setTimeout(60_000);

const business = loadBusinesses(path.join(__dirname, '..', '..', 'config', 'businesses.demo.json')).get('acme')!;
const ALL = business.categories.map((c) => c.id).sort();

const storeOf = storeForFile();

let n = 0;
function stopOf(phone: string): OptOutInput & { optOutId: string } {
  n++;
  return {
    origin: `sms.SMoptoutledger${n}`,
    optOutId: `optout.sms.SMoptoutledger${n}`,
    businessId: business.id,
    contactId: contactIdOf(business.id, phone),
    phone,
    channel: 'sms',
    reason: 'opt-out keyword',
    source: { kind: 'keyword', reference: `SMoptoutledger${n}` },
    receivedAt: new Date(Date.now() - 1_000).toISOString(),
    text: 'STOP',
    payload: { Body: 'STOP' },
  };
}

const consentsOf = async (contactId: string) => (await storeOf().consents.find({ contactId }).sort({ category: 1 }).lean()).map((c) => ({ category: c.category, status: c.status, lastEventId: c.lastEventId, updatedAt: c.updatedAt }));

test('a second caller that finds the events and the consents in place writes no consent again', async () => {
  const stop = stopOf('+14155550931');
  await recordOptOutEvents(storeOf(), business, stop);
  const first = await consentsOf(stop.contactId);
  expect(first.map((c) => [c.category, c.status, c.lastEventId])).toEqual(ALL.map((c) => [c, 'opted_out', `${stop.optOutId}:${c}:opted_out`]));

  await new Promise((resolve) => setTimeout(resolve, 20));
  await recordOptOutEvents(storeOf(), business, { ...stop, receivedAt: new Date().toISOString() }, { lookFirst: true });
  // Unchanged to the millisecond: a write would have moved updatedAt.
  expect(await consentsOf(stop.contactId)).toEqual(first);
});

test('a second caller writes the consents an acknowledgement cut short left behind, and never moves a later one back', async () => {
  const stop = stopOf('+14155550932');
  await recordOptOutEvents(storeOf(), business, stop);
  const [behind, later] = ALL;
  // As if the first writer stopped before this consent, and the contact said START for another since.
  await storeOf().consents.deleteOne({ _id: `${stop.contactId}:${behind}` });
  await setCurrentConsent(storeOf(), { businessId: business.id, contactId: stop.contactId, phone: stop.phone, category: later, status: 'opted_in', since: new Date(), eventId: 'resume.sms.SMlater:opted_in' });

  await recordOptOutEvents(storeOf(), business, stop, { lookFirst: true });
  const consents = new Map((await consentsOf(stop.contactId)).map((c) => [c.category, c]));
  expect(consents.get(behind)).toMatchObject({ status: 'opted_out', lastEventId: `${stop.optOutId}:${behind}:opted_out` });
  expect(consents.get(later)).toMatchObject({ status: 'opted_in', lastEventId: 'resume.sms.SMlater:opted_in' });
});
