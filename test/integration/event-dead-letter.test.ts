import type { FastifyInstance } from 'fastify';
import { contactIdOf } from '../../store/models';
import { numberedPhones } from '../harness/contact';
import { listenApi, startEventReceiver, type EventReceiver } from '../harness/event-receiver';
import { startTestStack, type TestStack } from '../harness/stack';
import { apiDepsWith } from '../harness/stack-env';
import { eventually } from '../harness/wait';

/**
 * A receiver that answers but refuses one event (a 400, every time) does not hold back that
 * contact's later events for ever: after `deadLetterAfterAttempts` attempts the event is set aside as
 * a dead letter, listed as such in the delivery log, and the contact's next event goes out. A receiver
 * that is down (no answer) is another matter: its events wait, however long (event-delivery.test.ts).
 */

jest.setTimeout(120_000);

const phoneNo = numberedPhones(300);
const SETTINGS = { retryInitialMs: 300, retryMaxMs: 1_000, settleMs: 100, idleCheckMs: 30_000, requestTimeoutMs: 2_000, deadLetterAfterAttempts: 3 };

let stack: TestStack;
let api: FastifyInstance;
let apiUrl: string;
let receiver: EventReceiver;
let receiverUrl: string;
/** Every request the receiver got, in order: the event and what it answered. */
const log: Array<{ id: string; contactId: string; category: string; type: string; answered: number }> = [];
/** `<contactId>:<category>:<type>` → the status the receiver answers that event with. */
const refuse = new Map<string, number>();

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'deadletter' });
  ({ app: api, url: apiUrl } = await listenApi({ ...apiDepsWith(stack, stack.client), eventDelivery: SETTINGS }));
  receiver = await startEventReceiver((body) => {
    const event = JSON.parse(body);
    const answered = refuse.get(`${event.contactId}:${event.category}:${event.type}`) ?? 204;
    log.push({ id: event.id, contactId: event.contactId, category: event.category, type: event.type, answered });
    return answered;
  });
  receiverUrl = `${receiver.url}/events`;
});

afterAll(async () => {
  await api?.close();
  await stack?.close();
  await receiver?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function paperConsent(phone: string, category: string, ref: string): Promise<void> {
  const r = await call('POST', '/v1/consents/offline', { businessId: 'acme', phone, categories: [category], evidence: { documentRef: ref, signedAt: new Date(Date.now() - 3_600_000).toISOString(), collectedBy: 'store #4' } });
  expect(r.status).toBe(202);
  await stack.client.workflow.getHandle(r.body.directConsentId).result();
}

test('an event refused every time is set aside after its attempts, and the contact\'s later events go on', async () => {
  const registered = await call('POST', '/v1/event-endpoints', { businessId: 'acme', url: receiverUrl });
  expect(registered.status).toBe(201);
  const endpointId = registered.body.endpointId as string;
  const [refusedPhone, otherPhone, lockedPhone] = [phoneNo(1), phoneNo(2), phoneNo(3)];
  const refusedContact = contactIdOf('acme', refusedPhone);
  const lockedContact = contactIdOf('acme', lockedPhone);
  // Only the consent itself: a paper consent also writes the confirmation's event for its category.
  refuse.set(`${refusedContact}:offers:opted_in`, 400);
  // A 401 says the receiver is misconfigured (every event would get it), not that it refuses this one.
  refuse.set(`${lockedContact}:offers:opted_in`, 401);

  await paperConsent(lockedPhone, 'offers', 'paper-dl-0');
  await paperConsent(refusedPhone, 'offers', 'paper-dl-1');
  await paperConsent(refusedPhone, 'order_updates', 'paper-dl-2');
  await paperConsent(otherPhone, 'offers', 'paper-dl-3');

  const later = await eventually('the refused contact\'s later event delivered', async () => log.find((l) => l.contactId === refusedContact && l.category === 'order_updates' && l.type === 'opted_in' && l.answered === 204), 60_000);
  const refusals = log.filter((l) => l.contactId === refusedContact && l.category === 'offers' && l.type === 'opted_in');
  expect(refusals.map((l) => l.answered)).toEqual([400, 400, 400]);
  // In ledger order: the later event only once the first was set aside.
  expect(log.indexOf(later)).toBeGreaterThan(log.indexOf(refusals[2]));
  expect(log.some((l) => l.contactId === contactIdOf('acme', otherPhone) && l.answered === 204)).toBe(true);

  const dead = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?status=dead_letter`);
  expect(dead.status).toBe(200);
  expect(dead.body.deliveries).toEqual([expect.objectContaining({ eventId: refusals[0].id, status: 'dead_letter', attempts: 3, lastStatus: 400, deadLetteredAt: expect.any(String) })]);

  const locked = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?status=failing`);
  const lockedRow = locked.body.deliveries.find((d: any) => d.contactId === lockedContact && d.type === 'opted_in');
  expect(lockedRow).toMatchObject({ status: 'failing', lastStatus: 401 });
  expect(lockedRow.attempts).toBeGreaterThanOrEqual(3);

  // Set aside means not sent again by the live rounds.
  await paperConsent(otherPhone, 'order_updates', 'paper-dl-4');
  await eventually('the next event delivered', async () => log.find((l) => l.contactId === contactIdOf('acme', otherPhone) && l.category === 'order_updates'), 30_000);
  expect(log.filter((l) => l.id === refusals[0].id)).toHaveLength(3);

  const bad = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?status=lost`);
  expect(bad.status).toBe(400);
  expect(bad.body.issues[0]).toMatchObject({ field: 'status' });
});
