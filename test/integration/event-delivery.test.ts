import type { FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { buildApp } from '../../api/app';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyEvent } from '../../lib/event-signature';
import { contactIdOf } from '../../store/models';
import { eventDeliveryWorkflowId } from '../../workflows/event-delivery/contract';
import { numberedPhones, waitForConsents } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { apiDepsWith } from '../harness/stack-env';
import { eventually, sleep } from '../harness/wait';

/**
 * Consent-change events end to end: a receiver of ours (a real HTTP server) registered through the
 * API, ledger events made the real way (paper consents, STOP and START through the carrier, the
 * worker's activities), then the receiver refuses connections for 60 s while more events are written,
 * and comes back. Every event arrives exactly once, each contact's in ledger order, every signature
 * valid; the delivery log shows the failed attempts; a replay sends them all again.
 */

jest.setTimeout(300_000);

const ACME_SMS = '+15005550006';
const DOWN_MS = 60_000;
const phoneNo = numberedPhones(100);

interface Received {
  id: string;
  body: any;
  signed: boolean;
  headerId: string | undefined;
}

let stack: TestStack;
let api: FastifyInstance;
let apiUrl: string;
let receiver: Server;
let receiverPort: number;
const received: Received[] = [];
let refusedWhileDown = 0;
let secret: string;
let endpointId: string;

function startReceiver(port = 0): Promise<number> {
  receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(text);
      received.push({ id: body.id, body, headerId: req.headers[EVENT_ID_HEADER] as string | undefined, signed: verifyEvent(secret, { timestamp: req.headers[TIMESTAMP_HEADER] as string, signature: req.headers[SIGNATURE_HEADER] as string }, text) });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => receiver.listen(port, '127.0.0.1', () => resolve((receiver.address() as { port: number }).port)));
}

const stopReceiver = () => new Promise<void>((resolve) => receiver.close(() => resolve()));

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function paperConsent(phone: string, categories: string[], ref: string): Promise<void> {
  const r = await call('POST', '/v1/consents/offline', { businessId: 'acme', phone, categories, evidence: { documentRef: ref, signedAt: new Date(Date.now() - 3_600_000).toISOString(), collectedBy: 'store #1' } });
  expect(r.status).toBe(202);
  await stack.client.workflow.getHandle(r.body.directConsentId).result();
}

async function stop(phone: string): Promise<void> {
  await stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'STOP' });
  await waitForConsents(stack, phone, (c) => c.events.filter((e: any) => e.type === 'opted_out').length === 3, 30_000);
}

/**
 * The business's ledger since the endpoint was registered, per contact: in ledger order (recorded,
 * then id) as live delivery sends it, or in the order things happened (time, then id) as a replay does.
 */
async function ledgerSince(from: Date, order: 'recorded' | 'happened' = 'recorded'): Promise<Map<string, string[]>> {
  const sort: Record<string, 1> = order === 'recorded' ? { recordedAt: 1, _id: 1 } : { at: 1, _id: 1 };
  const events = await stack.store.consentEvents.find({ businessId: 'acme', recordedAt: { $gte: from } }).sort(sort).lean();
  const byContact = new Map<string, string[]>();
  for (const e of events) byContact.set(e.contactId, [...(byContact.get(e.contactId) ?? []), String(e._id)]);
  return byContact;
}

const receivedPerContact = (list: Received[]) => {
  const byContact = new Map<string, string[]>();
  for (const r of list) byContact.set(r.body.contactId, [...(byContact.get(r.body.contactId) ?? []), r.id]);
  return byContact;
};

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'events' });
  // This API starts delivery workflows with backoff in seconds (production: up to 10 minutes).
  api = await buildApp({ ...apiDepsWith(stack, stack.client), eventDelivery: { retryInitialMs: 1_000, retryMaxMs: 5_000, settleMs: 200, idleCheckMs: 30_000, requestTimeoutMs: 2_000 } });
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
  receiverPort = await startReceiver();
});

afterAll(async () => {
  await api?.close();
  await stack?.close();
  if (receiver?.listening) await stopReceiver();
});

test('bad registrations are 400s naming the field; unknown endpoints 404', async () => {
  const cases: [unknown, string, RegExp][] = [
    [{ businessId: 'acme', url: 'ftp://x.test/' }, 'url', /http\(s\) URL/],
    [{ businessId: 'acme', url: 'https://user:pw@x.test/' }, 'url', /credentials/],
    [{ businessId: 'acme', url: 'https://x.test/', secret: 'short' }, 'secret', /32 characters/],
    [{ businessId: 'nope', url: 'https://x.test/' }, 'businessId', /configured business/],
  ];
  for (const [body, field, rule] of cases) {
    const r = await call('POST', '/v1/event-endpoints', body);
    expect(r.status).toBe(400);
    expect(r.body.issues.find((i: any) => i.field === field)?.rule).toMatch(rule);
  }
  expect((await call('GET', '/v1/event-endpoints/ep_0123456789abcdef/deliveries')).status).toBe(404);
  expect((await call('POST', '/v1/event-endpoints/nope/replay', { since: '2025-01-01' })).status).toBe(400);
});

test('a receiver down for 60 s then back gets every event once, in order per contact, signed', async () => {
  const registered = await call('POST', '/v1/event-endpoints', { businessId: 'acme', url: `http://127.0.0.1:${receiverPort}/hooks/consent`, description: 'test receiver' });
  expect(registered.status).toBe(201);
  expect(registered.body.secret).toMatch(/^whsec_/);
  ({ secret, endpointId } = registered.body);
  const registeredAt = new Date(registered.body.deliverFrom);
  const listed = await call('GET', '/v1/event-endpoints?businessId=acme');
  expect(listed.body.endpoints).toEqual([expect.objectContaining({ endpointId, url: `http://127.0.0.1:${receiverPort}/hooks/consent` })]);
  expect(JSON.stringify(listed.body)).not.toContain(secret);

  // While the receiver is up: a paper consent then a STOP for one contact, a STOP for another.
  const [ana, ben, cai, dee] = [1, 2, 3, 4].map(phoneNo);
  await paperConsent(ana, ['order_updates', 'offers'], `paper-${ana}`);
  await stop(ana);
  await stop(ben);
  let ledger = await ledgerSince(registeredAt);
  const before = [...ledger.values()].flat().length;
  expect(before).toBeGreaterThanOrEqual(8);
  await eventually('the first events to arrive', async () => received.length >= before, 30_000);

  // Down: connections refused for 60 s while contacts keep changing their minds.
  await stopReceiver();
  const downAt = Date.now();
  await stack.carrier.sendInbound({ from: ana, to: ACME_SMS, body: 'START' });
  await paperConsent(cai, ['offers'], `paper-${cai}`);
  await stop(dee);
  await waitForConsents(stack, ana, (c) => c.events.some((e: any) => e.type === 'messaging_resumed'), 30_000);
  const failing = await eventually(
    'failed attempts in the delivery log',
    async () => {
      const r = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?status=failing`);
      return r.body.deliveries.some((d: any) => d.attempts >= 2) && r.body.deliveries;
    },
    DOWN_MS,
  );
  expect(failing[0]).toMatchObject({ status: 'failing', lastError: 'ECONNREFUSED' });
  refusedWhileDown = received.length;
  await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
  expect(received.length).toBe(refusedWhileDown);

  await startReceiver(receiverPort);
  ledger = await ledgerSince(registeredAt);
  const total = [...ledger.values()].flat().length;
  expect(total).toBeGreaterThan(before);
  await eventually('every event after the receiver came back', async () => new Set(received.map((r) => r.id)).size >= total, 60_000);
  await sleep(3_000);

  // Exactly once: as many deliveries as ledger events, none repeated.
  const ids = received.map((r) => r.id);
  expect(ids.length).toBe(total);
  expect(new Set(ids).size).toBe(total);
  expect(received.every((r) => r.signed && r.headerId === r.id)).toBe(true);
  // Each contact's events in ledger order; every contact of the test is there.
  expect(receivedPerContact(received)).toEqual(ledger);
  expect([...ledger.keys()].sort()).toEqual([ana, ben, cai, dee].map((p) => contactIdOf('acme', p)).sort());
  const types = new Set(received.map((r) => r.body.type));
  for (const t of ['opted_in', 'confirmation_sent', 'opted_out', 'messaging_resumed']) expect(types).toContain(t);
  const optOut = received.find((r) => r.body.type === 'opted_out')!.body;
  expect(optOut).toMatchObject({ businessId: 'acme', endpointId, proof: { method: 'keyword', channel: 'sms', matchedKeyword: 'stop' } });
  expect(optOut.proof.inbound).toBeUndefined();

  const log = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?limit=500`);
  expect(log.body.deliveries).toHaveLength(total);
  expect(log.body.deliveries.every((d: any) => d.status === 'delivered')).toBe(true);
  expect(log.body.deliveries.filter((d: any) => d.attempts > 1).length).toBeGreaterThan(0);
});

test('a replay sends every event since a time again, marked as a replay, in order', async () => {
  const firstRound = received.length;
  const ledger = await ledgerSince(new Date(0), 'happened');
  const since = new Date(Date.now() - 3 * 3_600_000).toISOString();
  const r = await call('POST', `/v1/event-endpoints/${endpointId}/replay`, { since });
  expect(r.status).toBe(202);
  await eventually('the replayed events', async () => received.length >= firstRound * 2, 60_000);
  await sleep(2_000);
  const replayed = received.slice(firstRound);
  expect(replayed.every((x) => x.body.replay === true && x.signed)).toBe(true);
  expect(replayed.map((x) => x.id).sort()).toEqual(received.slice(0, firstRound).map((x) => x.id).sort());
  expect(receivedPerContact(replayed)).toEqual(ledger);
  const log = await call('GET', `/v1/event-endpoints/${endpointId}/deliveries?limit=500`);
  expect(log.body.deliveries.every((d: any) => d.replays === 1)).toBe(true);
});

test('deleting the endpoint ends its delivery workflow; nothing more is sent', async () => {
  const r = await call('DELETE', `/v1/event-endpoints/${endpointId}`);
  expect(r).toEqual({ status: 200, body: { endpointId, businessId: 'acme', deleted: true } });
  const end = await stack.client.workflow.getHandle(eventDeliveryWorkflowId(endpointId)).result();
  expect(end.reason).toBe('endpoint_deleted');
  const count = received.length;
  await stop(phoneNo(5));
  await sleep(3_000);
  expect(received.length).toBe(count);
  expect((await call('GET', `/v1/event-endpoints/${endpointId}/deliveries`)).status).toBe(404);
});
