import { blockMessaging, enterSendFence, hasBlockDocument, leaveSendFence, waitForSendsAtProvider } from '../../store/blocks';
import { keepInboundMessage } from '../../store/journeys';
import { claimOutbox, finishOutbox, readOutbox } from '../../store/outbox';
import { recordConfirmationSent, setCurrentConsent } from '../../store/queries';
import { deliveryReportsOf, keepDeliveryReport } from '../../store/delivery-reports';
import { countPendingOptOuts, dropPendingOptOut, keepPendingOptOut } from '../../store/pending-optouts';
import type { OptOutInput } from '../../workflows/optout/contract';
import { storeForFile } from '../harness/store';

/**
 * The writes that go in one command while another is in flight, against the real FerretDB: status
 * callbacks that arrive together, repeats among them (FerretDB stops an unordered insert at its
 * first refusal), kept opt-outs dropped together, send marks taken back together.
 */

const store = storeForFile();

test('reports kept at once are each stored once, repeats and repeats of stored ones among them', async () => {
  await keepDeliveryReport(store(), { providerId: 'SMgc0', status: 'delivered', at: new Date() });
  const reports = Array.from({ length: 30 }, (_, i) => ({ providerId: `SMgc${i % 12}`, status: i % 2 ? 'read' : 'delivered', outboxKey: `gc/${i % 12}`, at: new Date() }));
  // The first goes alone; the rest arrive while it is written and go together, the stored one among them.
  await Promise.all(reports.map((r) => keepDeliveryReport(store(), r)));
  const stored = (await Promise.all(Array.from({ length: 12 }, (_, i) => deliveryReportsOf(store(), `SMgc${i}`)))).flat();
  const expected = new Set(reports.map((r) => `${r.providerId}:${r.status}`));
  expect(stored.map((r) => `${r.providerId}:${r.status}`).sort()).toEqual([...expected].sort());
});

test('kept opt-outs dropped at once all go', async () => {
  const input = (i: number) => ({ origin: `sms.SMgcdrop${i}`, businessId: 'acme', contactId: `c_gc${i}`, phone: '+14155550180', channel: 'sms', reason: 'opt-out keyword', source: { kind: 'keyword', reference: `SMgcdrop${i}` }, receivedAt: new Date().toISOString(), payload: {} }) as OptOutInput;
  const before = await countPendingOptOuts(store());
  await Promise.all(Array.from({ length: 10 }, (_, i) => keepPendingOptOut(store(), `optout.gc${i}`, input(i))));
  expect(await countPendingOptOuts(store())).toBe(before + 10);
  await Promise.all(Array.from({ length: 10 }, (_, i) => dropPendingOptOut(store(), `optout.gc${i}`)));
  expect(await countPendingOptOuts(store())).toBe(before);
});

test('send marks taken at once, one of them again, are each there once; taken back at once, all gone', async () => {
  const contactId = 'c_gcfence';
  const keys = Array.from({ length: 8 }, (_, i) => `journey.gc/${i}/request`);
  // The first goes alone; the rest, a retried attempt's second mark among them, arrive while it is written.
  expect(await Promise.all([...keys, keys[3]].map((key) => enterSendFence(store(), contactId, key)))).toEqual(Array(keys.length + 1).fill(true));
  expect(await waitForSendsAtProvider(store(), contactId, 0)).toBe(keys.length);
  await Promise.all(keys.map((key) => leaveSendFence(store(), contactId, key)));
  expect(await waitForSendsAtProvider(store(), contactId, 0)).toBe(0);
});

test('block reads made at once answer each contact for itself, and a mark taken finds a block written before it', async () => {
  const blocked = ['c_gcb1', 'c_gcb3'];
  for (const [i, contactId] of blocked.entries()) await blockMessaging(store(), { businessId: 'acme', contactId, phone: `+1415555019${i}`, at: new Date() }, 'none');
  const asked = ['c_gcb0', 'c_gcb1', 'c_gcb2', 'c_gcb3', 'c_gcb1'];
  expect(await Promise.all(asked.map((c) => hasBlockDocument(store(), c)))).toEqual(asked.map((c) => blocked.includes(c)));
  // The gate of sends to a blocked and an unblocked contact at once: only the unblocked one goes.
  expect(await Promise.all([enterSendFence(store(), 'c_gcb1', 'journey.gcb1/request'), enterSendFence(store(), 'c_gcb2', 'journey.gcb2/request')])).toEqual([false, true]);
  expect(await waitForSendsAtProvider(store(), 'c_gcb1', 0)).toBe(0);
});

test('outcomes recorded at once are each on their own row', async () => {
  const keys = Array.from({ length: 6 }, (_, i) => `journey.gcout/${i}/request`);
  for (const key of keys) await claimOutbox(store(), { _id: key, businessId: 'acme', contactId: 'c_gcout', journeyId: 'j_gc', channel: 'sms', purpose: 'request', to: '+14155550182' });
  await Promise.all(keys.map((key, i) => finishOutbox(store(), key, i % 2 ? { status: 'failed', errorCode: 30003, reason: 'unreachable' } : { status: 'sent', providerId: `SMgcout${i}` })));
  for (const [i, key] of keys.entries()) {
    expect(await readOutbox(store(), key)).toMatchObject(i % 2 ? { status: 'failed', errorCode: 30003 } : { status: 'sent', providerId: `SMgcout${i}`, sentAt: expect.any(Date) });
  }
});

test('inbound messages kept at once are each kept once, with what their first delivery said', async () => {
  const message = (i: number, routedTo: string) => ({ _id: `SMgcin${i}`, businessId: 'acme', contactId: 'c_gcin', channel: 'sms', from: '+14155550183', intent: 'answer', routedTo, receivedAt: new Date(), payload: { Body: `YES ${i}`, 'odd.key': 'x' } });
  await keepInboundMessage(store(), message(0, 'journey'));
  // Repeats of a kept one and of one in the same batch: neither changes what was kept first.
  await Promise.all([0, 1, 2, 3, 1].map((i, n) => keepInboundMessage(store(), message(i, n === 4 ? 'repeat' : 'journey'))));
  const kept = await store().inbound.find({ contactId: 'c_gcin' }).sort({ _id: 1 }).lean();
  expect(kept.map((m) => [m._id, m.routedTo])).toEqual([0, 1, 2, 3].map((i) => [`SMgcin${i}`, 'journey']));
});

test("confirmations recorded at once put each message id on its own contact's opt-ins, and on no later consent", async () => {
  const contacts = [0, 1, 2].map((i) => ({ businessId: 'acme', contactId: `c_gcconf${i}`, phone: `+1415555018${4 + i}` }));
  for (const [i, c] of contacts.entries()) {
    for (const category of ['offers', 'news']) {
      // The third contact's news opt-in was since replaced by another consent: its mark must not land there.
      const eventId = i === 2 && category === 'news' ? 'later:news:opted_out' : `journey.gcconf${i}:${category}:opted_in`;
      await setCurrentConsent(store(), { ...c, category, status: eventId.endsWith('opted_out') ? 'opted_out' : 'opted_in', since: new Date(), eventId });
    }
  }
  await Promise.all(contacts.map((c, i) => recordConfirmationSent(store(), `journey.gcconf${i}`, { journeyId: `journey.gcconf${i}` }, { ...c, categories: ['offers', 'news'], providerId: `SMgcconf${i}`, outcome: 'sent', at: new Date().toISOString() })));
  const marks = await store().consents.find({ contactId: { $in: contacts.map((c) => c.contactId) } }).sort({ _id: 1 }).lean();
  expect(marks.map((m) => [m._id, m.confirmationMessageId ?? null])).toEqual([
    ['c_gcconf0:news', 'SMgcconf0'],
    ['c_gcconf0:offers', 'SMgcconf0'],
    ['c_gcconf1:news', 'SMgcconf1'],
    ['c_gcconf1:offers', 'SMgcconf1'],
    ['c_gcconf2:news', null],
    ['c_gcconf2:offers', 'SMgcconf2'],
  ]);
});
