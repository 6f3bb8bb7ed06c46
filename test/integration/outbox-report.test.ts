import { claimOutbox, markAmbiguous, noteProviderReport, readOutbox, reclaimForResend } from '../../store/outbox';
import { storeForFile } from '../harness/store';

/**
 * A final status callback settles the outbox row of a send whose outcome was unknown: an ambiguous
 * row becomes sent with the reported message, keeping how often it was resent; a row in any other
 * state is left exactly as it was.
 */

const store = storeForFile();
const row = (key: string) => ({ _id: key, businessId: 'acme', contactId: 'c_report', journeyId: 'j1', channel: 'sms' as const, purpose: 'request' as const, to: '+14155550199' });

test('an ambiguous row becomes sent with the reported message', async () => {
  await claimOutbox(store(), row('report/ambiguous'));
  await markAmbiguous(store(), 'report/ambiguous', 'timeout');
  await noteProviderReport(store(), 'report/ambiguous', 'SMreported1');
  expect(await readOutbox(store(), 'report/ambiguous')).toMatchObject({ status: 'sent', providerId: 'SMreported1', sentAt: expect.any(Date), resolution: { outcome: 'found', how: 'status_callback', detail: 'the provider reported SMreported1', resends: 0, at: expect.any(Date) } });
});

test('a row resent before keeps its count of resends', async () => {
  await claimOutbox(store(), row('report/resent'));
  await markAmbiguous(store(), 'report/resent', 'timeout');
  expect(await reclaimForResend(store(), (await readOutbox(store(), 'report/resent'))!, { how: 'message_list', detail: 'not at the provider' }, 'text')).toBe(true);
  await markAmbiguous(store(), 'report/resent', 'timeout again');
  await noteProviderReport(store(), 'report/resent', 'SMreported2');
  expect(await readOutbox(store(), 'report/resent')).toMatchObject({ status: 'sent', providerId: 'SMreported2', resolution: { outcome: 'found', how: 'status_callback', resends: 1 } });
});

test('a claimed or sent row is left as it was', async () => {
  await claimOutbox(store(), row('report/claimed'));
  const claimed = await readOutbox(store(), 'report/claimed');
  await noteProviderReport(store(), 'report/claimed', 'SMreported3');
  expect(await readOutbox(store(), 'report/claimed')).toEqual(claimed);
  await noteProviderReport(store(), 'report/missing', 'SMreported4');
  expect(await readOutbox(store(), 'report/missing')).toBeNull();
});

test('callbacks that arrive together settle each ambiguous row with its own message and leave the others', async () => {
  const keys = Array.from({ length: 6 }, (_, i) => `report/together${i}`);
  for (const [i, key] of keys.entries()) {
    await claimOutbox(store(), row(key));
    if (i % 2 === 0) await markAmbiguous(store(), key, 'timeout');
  }
  await Promise.all([...keys, 'report/together-missing'].map((key, i) => noteProviderReport(store(), key, `SMtogether${i}`)));
  for (const [i, key] of keys.entries()) {
    expect(await readOutbox(store(), key)).toMatchObject(i % 2 === 0 ? { status: 'sent', providerId: `SMtogether${i}`, resolution: { how: 'status_callback' } } : { status: 'claimed' });
  }
  expect(await readOutbox(store(), 'report/together-missing')).toBeNull();
});
