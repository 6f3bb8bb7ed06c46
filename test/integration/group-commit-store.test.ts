import { enterSendFence, leaveSendFence, waitForSendsAtProvider } from '../../store/blocks';
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

test('send marks taken back at once are all gone, and an opt-out waits for none of them', async () => {
  const contactId = 'c_gcfence';
  const keys = Array.from({ length: 8 }, (_, i) => `journey.gc/${i}/request`);
  for (const key of keys) expect(await enterSendFence(store(), contactId, key)).toBe(true);
  expect(await waitForSendsAtProvider(store(), contactId, 0)).toBe(keys.length);
  await Promise.all(keys.map((key) => leaveSendFence(store(), contactId, key)));
  expect(await waitForSendsAtProvider(store(), contactId, 0)).toBe(0);
});
