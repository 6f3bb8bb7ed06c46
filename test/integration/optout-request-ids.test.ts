import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { freshPhones } from '../harness/contact';
import { startTestStack, TEST_API_KEY, type TestStack } from '../harness/stack';
import { apiDepsWith } from '../harness/stack-env';

/**
 * POST /v1/optouts keyed by the caller's request id: the id belongs to one business and one caller
 * (API key). The same id with the same body is a repeat; with another body it is refused, naming the
 * id, and never answered as if that other opt-out had been done.
 */

jest.setTimeout(90_000);

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const OTHER_API_KEY = 'another-callers-api-key-0123456789';
const phoneOf = freshPhones('+1206557');

let stack: TestStack;
let twoCallers: FastifyInstance;
let twoCallersUrl: string;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'optreq', businessesFile: fastBusinesses });
  twoCallers = await buildApp({ ...apiDepsWith(stack, stack.client), apiKeys: [TEST_API_KEY, OTHER_API_KEY] });
  await twoCallers.listen({ host: '127.0.0.1', port: 0 });
  twoCallersUrl = `http://127.0.0.1:${(twoCallers.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await twoCallers?.close();
  await stack?.close();
});

const requestIdOf = () => `crm-${randomBytes(4).toString('hex')}`;

function optOutBody(businessId: string, phone: string, requestId: string, extra: Record<string, unknown> = {}) {
  return { businessId, phone, reason: 'asked the support agent', source: { kind: 'agent', reference: 'ticket-9' }, requestId, ...extra };
}

async function messagingOf(businessId: string, phone: string): Promise<{ messaging: string; events: any[] }> {
  const r = await stack.request('GET', `/v1/consents?businessId=${businessId}&phone=${encodeURIComponent(phone)}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function optOutEventsEventually(businessId: string, phone: string, count: number) {
  const until = Date.now() + 30_000;
  for (;;) {
    const c = await messagingOf(businessId, phone);
    const events = c.events.filter((e) => e.type === 'opted_out');
    if (events.length >= count) return events;
    if (Date.now() > until) throw new Error(`expected ${count} opt-out events for ${phone}: ${JSON.stringify(c)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

test('the same requestId for another phone is a 409 naming requestId; that phone is not opted out', async () => {
  const [first, second] = [phoneOf(), phoneOf()];
  const requestId = requestIdOf();
  const r1 = await stack.request('POST', '/v1/optouts', optOutBody('acme', first, requestId));
  expect(r1.status).toBe(202);

  const r2 = await stack.request('POST', '/v1/optouts', optOutBody('acme', second, requestId));
  expect(r2.status).toBe(409);
  expect(r2.body.error).toBe('request_id_reused');
  expect(r2.body.issues).toEqual([expect.objectContaining({ field: 'requestId', value: requestId, rule: expect.stringContaining('phone') })]);
  expect(r2.body.message).toContain('requestId');

  await optOutEventsEventually('acme', first, 3);
  const untouched = await messagingOf('acme', second);
  expect(untouched.messaging).toBe('allowed');
  expect(untouched.events).toHaveLength(0);
});

test('the same requestId with other categories or another reason is a 409; with the same body it is a repeat (200, existing)', async () => {
  const phone = phoneOf();
  const requestId = requestIdOf();
  const body = optOutBody('acme', phone, requestId, { categories: ['offers'] });
  expect((await stack.request('POST', '/v1/optouts', body)).status).toBe(202);

  const otherCategories = await stack.request('POST', '/v1/optouts', { ...body, categories: ['offers', 'recommendations'] });
  expect(otherCategories.status).toBe(409);
  expect(otherCategories.body.issues[0]).toMatchObject({ field: 'requestId', rule: expect.stringContaining('categories') });
  const everything = await stack.request('POST', '/v1/optouts', { ...body, categories: undefined });
  expect(everything.status).toBe(409);
  const otherReason = await stack.request('POST', '/v1/optouts', { ...body, reason: 'changed their mind' });
  expect(otherReason.status).toBe(409);
  expect(otherReason.body.issues[0].rule).toContain('reason');

  const repeat = await stack.request('POST', '/v1/optouts', body);
  expect(repeat.status).toBe(200);
  expect(repeat.body).toMatchObject({ existing: true, categories: ['offers'] });
  const events = await optOutEventsEventually('acme', phone, 1);
  expect(events.map((e) => e.category)).toEqual(['offers']);
  expect((await messagingOf('acme', phone)).messaging).toBe('allowed');
});

test('another business using the same requestId gets its own opt-out', async () => {
  const [acmePhone, pacedPhone] = [phoneOf(), phoneOf()];
  const requestId = requestIdOf();
  expect((await stack.request('POST', '/v1/optouts', optOutBody('acme', acmePhone, requestId))).status).toBe(202);
  const paced = await stack.request('POST', '/v1/optouts', optOutBody('paced', pacedPhone, requestId));
  expect(paced.status).toBe(202);
  expect(paced.body).toMatchObject({ existing: false, progress: 'blocked' });
  expect((await optOutEventsEventually('paced', pacedPhone, 3)).every((e) => e.proof.optOutId !== undefined)).toBe(true);
  expect((await messagingOf('paced', pacedPhone)).messaging).toBe('opted_out');
});

test('another caller (API key) using the same requestId gets its own opt-out; each caller repeats its own', async () => {
  const [mine, theirs] = [phoneOf(), phoneOf()];
  const requestId = requestIdOf();
  const post = async (key: string, body: unknown) =>
    (await fetch(`${twoCallersUrl}/v1/optouts`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;

  expect(await post(TEST_API_KEY, optOutBody('acme', mine, requestId))).toBe(202);
  expect(await post(OTHER_API_KEY, optOutBody('acme', theirs, requestId))).toBe(202);
  expect(await post(OTHER_API_KEY, optOutBody('acme', theirs, requestId))).toBe(200);
  expect(await post(TEST_API_KEY, optOutBody('acme', theirs, requestId))).toBe(409);

  await optOutEventsEventually('acme', mine, 3);
  await optOutEventsEventually('acme', theirs, 3);
});
