import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { contactIdOf } from '../../store/models';
import { numberedPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourney } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * Quiet hours and the frequency cap hold back every opt-in request a journey sends (its first
 * request, reminders, later steps), in the contact's time zone, and the journey's status says so.
 * The dev server does not skip time, so the businesses are written for this run: quiet hours that end
 * (or begin) at the first whole minute at least 60 s after the file is written (the stack starts in
 * between, slower on a busy machine). The tests run concurrently; each has its own business or contact.
 */

jest.setTimeout(240_000);

const MINUTE = 60_000;
const SLOW = 30_000;
const dir = mkdtempSync(path.join(tmpdir(), 'quiet-hours-'));
const fast = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'businesses.fast.json'), 'utf8')).businesses[0];

const clock = (at: number) => new Date(at).toISOString().slice(11, 16);
/** Quiet hours (UTC clock) end here for `hushed` and begin here for `dusk`. */
const edge = Math.ceil((Date.now() + 60_000) / MINUTE) * MINUTE;

function business(id: string, n: number, extra: Record<string, unknown>) {
  const senders = { sms: `+1500555${n}06`, whatsapp: `+1500555${n}07`, voice: `+1500555${n}08`, email: `hello@${id}.example` };
  return { ...fast, id, name: `${id} shop`, senders, ...extra };
}
const noQuiet = { start: '00:00', end: '00:00', defaultTimezone: 'UTC' };
const businessesFile = path.join(dir, 'businesses.json');
writeFileSync(
  businessesFile,
  JSON.stringify({
    businesses: [
      business('hushed', 31, { frequencyCapDays: 0, quietHours: { start: clock(edge - 3 * 60 * MINUTE), end: clock(edge), defaultTimezone: 'UTC' } }),
      business('dusk', 32, { frequencyCapDays: 0, quietHours: { start: clock(edge), end: clock(edge + MINUTE), defaultTimezone: 'UTC' } }),
      business('capped', 33, { frequencyCapDays: 30, quietHours: noQuiet }),
    ],
  }),
);

const phoneNo = numberedPhones(700);
/** A French mobile: by its country, the contact lives in Europe/Paris (UTC+1 in winter, UTC+2 in summer). */
const frenchPhone = () => `+336123${String(Math.floor(Math.random() * 100_000)).padStart(5, '0')}`;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'quiet', businessesFile });
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const outboundTo = (phone: string) => stack.carrier.messages({ contact: phone }).filter((m) => m.direction === 'outbound-api');

test.concurrent('a journey started in the contact\'s quiet hours shows the deferral, sends nothing, and asks when they end', async () => {
  expect(Date.now()).toBeLessThan(edge - 2_000);
  const phone = phoneNo(1);
  const journeyId = await startJourney(stack, { businessId: 'hushed', contact: { phone, timezone: 'UTC' }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  const deferred = await waitForJourney(stack, journeyId, (j) => j.deferred !== undefined, 'deferred', SLOW);
  expect(deferred).toMatchObject({ status: 'active', deferred: { until: new Date(edge).toISOString(), reason: 'quiet_hours', step: 0, purpose: 'request' } });
  expect(deferred.events).toEqual([expect.objectContaining({ direction: 'note', kind: 'deferred:quiet_hours', channel: 'sms', step: 0 })]);
  expect(await stack.store.outbox.countDocuments({ journeyId })).toBe(0);
  await sleep(Math.max(0, edge - Date.now() - 1_500));
  expect(outboundTo(phone)).toHaveLength(0);

  const request = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW + MINUTE);
  expect(Date.parse(request.createdAt)).toBeGreaterThanOrEqual(edge);
  expect(request.renderedText).toContain('hushed shop');
  const asked = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'the request sent', SLOW);
  expect(asked.deferred).toBeUndefined();
  expect((await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {})).status).toBe(200);
});

test.concurrent('quiet hours are read in the contact\'s zone: their phone\'s country, else the business default', async () => {
  // Quiet until `edge` on a UTC clock; in Paris it is an hour or two later, past the quiet time there.
  const phone = frenchPhone();
  const journeyId = await startJourney(stack, { businessId: 'hushed', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  expect(Date.now()).toBeLessThan(edge);
  const journey = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'the request sent', SLOW);
  expect(journey.deferred).toBeUndefined();
  expect(journey.events.some((e: any) => e.kind.startsWith('deferred:'))).toBe(false);
  expect((await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {})).status).toBe(200);
});

test.concurrent('a reminder that falls in quiet hours waits for their end; the request before them went at once', async () => {
  const phone = phoneNo(2);
  const remindAfterS = Math.ceil((edge + 3_000 - Date.now()) / 1000);
  expect(remindAfterS).toBeGreaterThan(5);
  const journeyId = await startJourney(stack, { businessId: 'dusk', contact: { phone, timezone: 'UTC' }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: `${remindAfterS + 120}s`, remindAfter: [`${remindAfterS}s`] }] });
  const request = await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  expect(Date.parse(request.createdAt)).toBeLessThan(edge);

  // The reminder is due up to 123 s after the start (3 s past `edge`): the wait counts from when it is due.
  const deferred = await waitForJourney(stack, journeyId, (j) => j.deferred !== undefined, 'the reminder deferred', edge + 3_000 + SLOW - Date.now());
  expect(deferred.deferred).toEqual({ until: new Date(edge + MINUTE).toISOString(), reason: 'quiet_hours', step: 0, purpose: 'reminder' });
  expect(deferred.nextDeadline).toBeDefined();
  await sleep(Math.max(0, edge + MINUTE - Date.now() - 1_500));
  expect(outboundTo(phone)).toHaveLength(1);

  const reminder = await stack.carrier.waitFor(() => outboundTo(phone)[1], SLOW + MINUTE);
  expect(Date.parse(reminder.createdAt)).toBeGreaterThanOrEqual(edge + MINUTE);
  const reminded = await waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'reminder:sent'), 'the reminder sent', SLOW);
  expect(reminded.deferred).toBeUndefined();
  expect(reminded.events.filter((e: any) => e.kind === 'deferred:quiet_hours')).toHaveLength(1);
  expect((await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {})).status).toBe(200);
});

test.concurrent('the frequency cap holds back a second journey\'s request to the same contact; a cancel ends it unsent', async () => {
  const phone = phoneNo(3);
  const first = await startJourney(stack, { businessId: 'capped', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => outboundTo(phone)[0], SLOW);
  await waitForJourney(stack, first, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'the first request sent', SLOW);
  const sentAt = (await stack.store.outbox.findOne({ journeyId: first, purpose: 'request' }).lean())!.sentAt!;
  expect((await stack.request('POST', `/v1/journeys/${first}/cancel`, {})).status).toBe(200);
  await waitForJourney(stack, first, (j) => j.source === 'store', 'closed', SLOW);

  const second = await startJourney(stack, { businessId: 'capped', contact: { phone }, categories: ['recommendations'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  const deferred = await waitForJourney(stack, second, (j) => j.deferred !== undefined, 'deferred', SLOW);
  expect(deferred.deferred).toEqual({ until: new Date(sentAt.getTime() + 30 * 86_400_000).toISOString(), reason: 'frequency_cap', step: 0, purpose: 'request' });
  // Another contact of the same business is not held back by this one's cap.
  const other = phoneNo(4);
  await startJourney(stack, { businessId: 'capped', contact: { phone: other }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => outboundTo(other)[0], SLOW);

  const cancelled = await stack.request('POST', `/v1/journeys/${second}/cancel`, { reason: 'asked too recently' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'cancelled' });
  expect(cancelled.body.deferred).toBeUndefined();
  expect(outboundTo(phone)).toHaveLength(1);
  expect(await stack.store.outbox.countDocuments({ journeyId: second })).toBe(0);
});

test.concurrent('the contact counts its journeys; one whose journeys were never counted (older data, an import) is still searched for other requests', async () => {
  // A contact the count does not cover, as written before it existed: another journey asked them yesterday.
  const phone = phoneNo(5);
  const contactId = contactIdOf('capped', phone);
  const askedAt = new Date(Date.now() - 86_400_000);
  await stack.store.connection.collection('contacts').insertOne({ _id: contactId, businessId: 'capped', phone, messaging: 'allowed', lastRequestAt: askedAt } as never);
  await stack.store.outbox.create({ _id: `legacy.${contactId}/request`, businessId: 'capped', contactId, journeyId: `legacy.${contactId}`, channel: 'sms', purpose: 'request', to: phone, status: 'sent', sentAt: askedAt });

  const journeyId = await startJourney(stack, { businessId: 'capped', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  const deferred = await waitForJourney(stack, journeyId, (j) => j.deferred !== undefined, 'deferred', SLOW);
  expect(deferred.deferred).toEqual({ until: new Date(askedAt.getTime() + 30 * 86_400_000).toISOString(), reason: 'frequency_cap', step: 0, purpose: 'request' });
  expect(await stack.store.contacts.findById(contactId).lean()).toMatchObject({ journeysBegun: 1 });
  expect((await stack.store.contacts.findById(contactId).lean())?.journeysCounted).toBeUndefined();
  expect((await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, {})).status).toBe(200);

  // A contact created now is counted from its first journey, and its second counts two.
  const fresh = phoneNo(6);
  const first = await startJourney(stack, { businessId: 'capped', contact: { phone: fresh }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => outboundTo(fresh)[0], SLOW);
  expect(await stack.store.contacts.findById(contactIdOf('capped', fresh)).lean()).toMatchObject({ journeysCounted: true, journeysBegun: 1 });
  expect((await stack.request('POST', `/v1/journeys/${first}/cancel`, {})).status).toBe(200);
  await waitForJourney(stack, first, (j) => j.source === 'store', 'closed', SLOW);
  const second = await startJourney(stack, { businessId: 'capped', contact: { phone: fresh }, categories: ['recommendations'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect((await waitForJourney(stack, second, (j) => j.deferred !== undefined, 'deferred', SLOW)).deferred).toMatchObject({ reason: 'frequency_cap' });
  expect(await stack.store.contacts.findById(contactIdOf('capped', fresh)).lean()).toMatchObject({ journeysCounted: true, journeysBegun: 2 });
  expect((await stack.request('POST', `/v1/journeys/${second}/cancel`, {})).status).toBe(200);
  expect(outboundTo(fresh)).toHaveLength(1);
});

test('a business with quiet hours that are not a clock time or a time zone is refused at start, naming the field', async () => {
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ businesses: [business('nowhere', 34, { quietHours: { start: '21:00', end: '24:00', defaultTimezone: 'Mars/Olympus_Mons' } })] }));
  const started = startTestStack({ prefix: 'quietbad', businessesFile: bad });
  await expect(started).rejects.toThrow(/businesses\.0\.quietHours\.end: must be HH:MM \(24-hour\)/);
  await expect(started).rejects.toThrow(/businesses\.0\.quietHours\.defaultTimezone: must be an IANA time zone/);

  const badZone = await stack.request('POST', '/v1/journeys', { businessId: 'hushed', contact: { phone: phoneNo(5), timezone: 'Europe/Atlantis' }, categories: ['offers'] });
  expect(badZone.status).toBe(400);
  expect(badZone.body.issues).toEqual([expect.objectContaining({ field: 'contact.timezone' })]);
});
