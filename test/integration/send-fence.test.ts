import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createChannelActivities, type SendInput, type SendResult } from '../../activities/channel';
import { createOptOutActivities } from '../../activities/optout';
import { blockMessaging, enterSendFence, leaveSendFence, waitForSendsAtProvider } from '../../store/blocks';
import { contactIdOf } from '../../store/models';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';

/**
 * The in-flight marks of sends at the provider, when an attempt loses the store between its provider
 * call and taking its mark back: the mark must not hold an opt-out's record, and the send's own retry
 * clears it. The opt-out confirmation, the last message a contact gets, waits for live marks itself.
 */

jest.setTimeout(60_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'fence', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

let n = 0;
const phoneOf = () => `+1415555${String(7100 + n++).padStart(4, '0')}`;
const keyOf = () => `fence.${randomBytes(6).toString('hex')}`;
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);
const sendOf = (phone: string, key: string, purpose: SendInput['purpose']): SendInput => ({
  idempotencyKey: key,
  purpose,
  channel: 'sms',
  businessId: 'acme',
  contactId: contactIdOf('acme', phone),
  phone,
  categories: ['offers'],
});

test('a retried send whose earlier attempt was sent but kept its in-flight mark takes the mark back, sending nothing again', async () => {
  const phone = phoneOf();
  const key = keyOf();
  const { send } = createChannelActivities(stack.activityDeps);
  const contactId = contactIdOf('acme', phone);
  // What the attempt left: the message at the provider and recorded, the mark still there (the store went away before the leave).
  expect(await enterSendFence(stack.store, contactId, key)).toBe(true);
  await stack.store.outbox.create({ _id: key, businessId: 'acme', contactId, channel: 'sms', purpose: 'request', to: phone, status: 'sent', providerId: 'SMearlier', attempts: 1, sentAt: new Date() });
  expect(await waitForSendsAtProvider(stack.store, contactId, 0)).toBe(1);

  const result: SendResult = await run(send, sendOf(phone, key, 'request'));
  expect(result).toMatchObject({ outcome: 'sent', providerId: 'SMearlier' });
  expect(await waitForSendsAtProvider(stack.store, contactId, 0)).toBe(0);
  expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
});

test('the workflow block step writes the ledger at once and does not wait long on a send still registered at the provider', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const { blockContact } = createOptOutActivities({ store: stack.store, businesses: stack.businesses });
  expect(await enterSendFence(stack.store, contactId, keyOf())).toBe(true);
  const optOutId = `optout.sms.SM${randomBytes(16).toString('hex')}`;
  const began = Date.now();
  const blocked = await run(blockContact, { optOutId, origin: optOutId.slice('optout.'.length), businessId: 'acme', contactId, phone, channel: 'sms', reason: 'STOP', source: { kind: 'sms' }, receivedAt: new Date().toISOString(), payload: { Body: 'STOP' } });
  const took = Date.now() - began;
  expect(blocked).toMatchObject({ allCategories: true, blocked: true });
  expect(took).toBeLessThan(15_000);
  const events = await stack.store.consentEvents.find({ contactId, type: 'opted_out' }).lean();
  expect(events.map((e) => e.category).sort()).toEqual(stack.businesses.get('acme')!.categories.map((c) => c.id).sort());
});

test('the opt-out confirmation goes only once the sends registered at the provider have come back', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const other = keyOf();
  const { send } = createChannelActivities(stack.activityDeps);
  expect(await enterSendFence(stack.store, contactId, other)).toBe(true);

  const confirming = run(send, sendOf(phone, keyOf(), 'optout_confirmation'));
  await sleep(1_500);
  expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
  const left = Date.now();
  await leaveSendFence(stack.store, contactId, other);
  expect(await confirming).toMatchObject({ outcome: 'sent' });
  const sent = stack.carrier.messages({ to: phone });
  expect(sent).toHaveLength(1);
  expect(Date.parse(sent[0].createdAt)).toBeGreaterThanOrEqual(left - 50);
});

test('a confirmation whose opt-out found no send at the provider after blocking does not look for any', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const { send } = createChannelActivities(stack.activityDeps);
  // A mark left behind would hold the confirmation above; this one says the acknowledgement saw none.
  expect(await enterSendFence(stack.store, contactId, keyOf())).toBe(true);
  const confirming = run(send, { ...sendOf(phone, keyOf(), 'optout_confirmation'), noSendsAtProvider: true });
  const first = await Promise.race([confirming, sleep(6_000).then(() => 'still waiting' as const)]);
  expect(first).toMatchObject({ outcome: 'sent' });
  expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
});

test('a send the carrier refuses because the contact unsubscribed there (21610) returns with the contact blocked and the opt-out in the ledger', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  stack.carrier.setRecipientBehaviour(phone, { unsubscribed: true });
  const { send } = createChannelActivities(stack.activityDeps);
  // No worker runs on this stack: whatever is in the ledger when the send returns, the send activity wrote.
  const result: SendResult = await new MockActivityEnvironment({ taskQueue: stack.taskQueue }, { client: stack.client }).run(send, sendOf(phone, keyOf(), 'request'));
  expect(result).toMatchObject({ outcome: 'failed', errorCode: 21610 });
  const events = await stack.store.consentEvents.find({ contactId, type: 'opted_out' }).lean();
  expect(events.map((e) => e.category).sort()).toEqual(stack.businesses.get('acme')!.categories.map((c) => c.id).sort());
  expect(events[0].proof).toMatchObject({ method: 'provider', channel: 'provider' });
  expect((await stack.store.contacts.findById(contactId).lean())?.messaging).toBe('opted_out');
});

test("a send that finds the opt-out's block document refuses and takes its mark back, before the contact's flag is written", async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  // The opt-out between its two writes: the block document in, the contact's flag not yet.
  await stack.store.connection.collection<{ _id: string; at: Date }>('contact_blocks').insertOne({ _id: contactId, at: new Date() });
  expect(await stack.store.contacts.findById(contactId).lean()).toBeNull();
  expect(await enterSendFence(stack.store, contactId, keyOf())).toBe(false);
  expect(await waitForSendsAtProvider(stack.store, contactId, 0)).toBe(0);
});

test('an opt-out older than the contact\'s START blocks nothing and leaves no block document behind', async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const resumedAt = new Date();
  await stack.store.contacts.collection.insertOne({ _id: contactId, businessId: 'acme', phone, messaging: 'allowed', messagingResumedAt: resumedAt } as never);
  const r = await blockMessaging(stack.store, { businessId: 'acme', contactId, phone, at: new Date(resumedAt.getTime() - 60_000) }, 0);
  expect(r).toEqual({ blocked: false, inFlight: 0 });
  expect(await stack.store.connection.collection('contact_blocks').findOne({ _id: contactId } as never)).toBeNull();
  expect((await stack.store.contacts.findById(contactId).lean())?.messaging).toBe('allowed');
  expect(await enterSendFence(stack.store, contactId, keyOf())).toBe(true);
});

test("a block that leaves the sends at the provider to the confirmation ('none') does not look for them; a wait of 0 still counts them", async () => {
  const phone = phoneOf();
  const contactId = contactIdOf('acme', phone);
  const key = keyOf();
  // A send past the gate and at the provider: its mark is live.
  expect(await enterSendFence(stack.store, contactId, key)).toBe(true);
  const c = { businessId: 'acme', contactId, phone, at: new Date() };
  expect(await blockMessaging(stack.store, c, 'none')).toEqual({ blocked: true, inFlight: 0 });
  expect(await blockMessaging(stack.store, c, 0)).toEqual({ blocked: true, inFlight: 1 });
  await leaveSendFence(stack.store, contactId, key);
  expect(await waitForSendsAtProvider(stack.store, contactId, 0)).toBe(0);
});
