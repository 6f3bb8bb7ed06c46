import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { ROUTE_ACCESS } from '../../api/access';
import { ALLOWED, ROLES, type Role } from '../../domain/access';
import { hashedKey, type KeysFile } from '../../lib/api-keys';
import { freshPhones } from '../harness/contact';
import { readBody } from '../harness/http';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForCampaign, waitForJourneyStatus } from '../harness/stack-queries';
import { apiDepsWith } from '../harness/stack-env';
import { eventually, sleep } from '../harness/wait';

/**
 * Keys scoped to businesses and roles, over every /v1 route the API registers (collected with
 * Fastify's onRoute, so a route added without a case here fails the first test): a key for another
 * business gets 403 naming the business, a key whose role may not call the route gets 403, and both
 * change nothing in MongoDB or Temporal; a key with the right business and role passes the check.
 */

jest.setTimeout(180_000);

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const phoneOf = freshPhones('+1206558');
const secret = () => `key-${randomBytes(16).toString('hex')}`;

/** One key per role for acme, and an admin key for another business. */
const KEYS = {
  ...(Object.fromEntries(ROLES.map((role) => [`${role}-acme`, { secret: secret(), role, businesses: ['acme'] }])) as Record<`${Role}-acme`, { secret: string; role: Role; businesses: string[] }>),
  'admin-paced': { secret: secret(), role: 'admin' as Role, businesses: ['paced'] },
};
type KeyName = keyof typeof KEYS;
const keysFile: KeysFile = { keys: Object.entries(KEYS).map(([id, k]) => ({ id, hash: hashedKey(k.secret), role: k.role, businesses: k.businesses })) };

interface Call {
  method: string;
  url: string;
  body?: unknown;
  csv?: string;
}

interface Fixture {
  journeyId: string;
  campaignId: string;
  endpointId: string;
  /** Deleted by the DELETE case, so the other endpoint routes still find theirs. */
  spareEndpointId: string;
  phone: string;
}

const LONG_PLAN = [{ channel: 'sms', waitFor: '30d' }];
let documentRefs = 0;

/** For every /v1 route, the calls that exercise it for business acme; each call builds fresh values. */
const CASES: Record<string, (f: Fixture) => Call[]> = {
  'GET /v1/keys/me': () => [{ method: 'GET', url: '/v1/keys/me' }],
  'POST /v1/journeys': () => [{ method: 'POST', url: '/v1/journeys', body: { businessId: 'acme', contact: { phone: phoneOf() }, categories: ['offers'], plan: LONG_PLAN } }],
  'GET /v1/journeys/:journeyId': (f) => [{ method: 'GET', url: `/v1/journeys/${f.journeyId}` }],
  'GET /v1/consents': (f) => [{ method: 'GET', url: `/v1/consents?businessId=acme&phone=${encodeURIComponent(f.phone)}` }],
  'POST /v1/optouts': () => [{ method: 'POST', url: '/v1/optouts', body: { businessId: 'acme', phone: phoneOf(), reason: 'asked in the chat', source: { kind: 'agent' }, agentId: 'agent-7', ticketId: 'T-100' } }],
  'POST /v1/consents/offline': () => [
    {
      method: 'POST',
      url: '/v1/consents/offline',
      body: { businessId: 'acme', phone: phoneOf(), categories: ['offers'], evidence: { documentRef: `form-${randomBytes(4).toString('hex')}-${++documentRefs}`, signedAt: new Date(Date.now() - 60_000).toISOString(), collectedBy: 'front desk' } },
    },
  ],
  'POST /v1/consents/import': () => {
    const importId = `imp-${randomBytes(4).toString('hex')}`;
    const evidence = { method: 'checkout_checkbox', collectedAt: new Date(Date.now() - 86_400_000).toISOString(), shown: 'Send me offers on WhatsApp', reference: `crm-${importId}` };
    return [
      { method: 'POST', url: '/v1/consents/import', body: { businessId: 'acme', importId, rows: [{ phone: phoneOf(), categories: ['offers'], evidence }] } },
      { method: 'POST', url: `/v1/consents/import?businessId=acme&importId=${importId}-csv`, csv: `phone,categories,method,collected_at,shown,reference\n${phoneOf()},offers,${evidence.method},${evidence.collectedAt},${evidence.shown},${evidence.reference}\n` },
    ];
  },
  'POST /v1/campaigns': () => [
    { method: 'POST', url: '/v1/campaigns', body: { businessId: 'acme', name: 'scoped', categories: ['offers'], plan: LONG_PLAN, contacts: [{ phone: phoneOf() }] } },
    { method: 'POST', url: `/v1/campaigns?businessId=acme&name=scoped-csv&categories=offers&plan=${encodeURIComponent(JSON.stringify(LONG_PLAN))}`, csv: `phone\n${phoneOf()}\n` },
  ],
  'GET /v1/campaigns/:campaignId': (f) => [{ method: 'GET', url: `/v1/campaigns/${f.campaignId}` }],
  'GET /v1/campaigns/:campaignId/rows': (f) => [{ method: 'GET', url: `/v1/campaigns/${f.campaignId}/rows` }],
  'POST /v1/campaigns/:campaignId/pause': (f) => [{ method: 'POST', url: `/v1/campaigns/${f.campaignId}/pause` }],
  'POST /v1/campaigns/:campaignId/resume': (f) => [{ method: 'POST', url: `/v1/campaigns/${f.campaignId}/resume` }],
  'POST /v1/campaigns/:campaignId/cancel': (f) => [{ method: 'POST', url: `/v1/campaigns/${f.campaignId}/cancel`, body: { journeys: 'finish' } }],
  'POST /v1/agent/optin': () => [{ method: 'POST', url: '/v1/agent/optin', body: { businessId: 'acme', agentId: 'agent-7', ticketId: 'T-101', phone: phoneOf(), categories: ['offers'] } }],
  'GET /v1/reports/consent': () => [{ method: 'GET', url: '/v1/reports/consent?businessId=acme' }],
  'GET /v1/reports/link': () => [{ method: 'GET', url: '/v1/reports/link?businessId=acme' }],
  'GET /v1/ledger/verify': () => [{ method: 'GET', url: '/v1/ledger/verify?businessId=acme' }],
  'POST /v1/ledger/seal': () => [{ method: 'POST', url: '/v1/ledger/seal', body: { businessId: 'acme' } }],
  'GET /v1/contacts/export': () => [{ method: 'GET', url: `/v1/contacts/export?businessId=acme&phone=${encodeURIComponent(phoneOf())}` }],
  'GET /v1/consents/export': () => [{ method: 'GET', url: '/v1/consents/export?businessId=acme&status=opted_out&format=ndjson' }],
  'POST /v1/event-endpoints': () => [{ method: 'POST', url: '/v1/event-endpoints', body: { businessId: 'acme', url: 'http://127.0.0.1:9/consent-events' } }],
  'GET /v1/event-endpoints': () => [{ method: 'GET', url: '/v1/event-endpoints?businessId=acme' }],
  'DELETE /v1/event-endpoints/:endpointId': (f) => [{ method: 'DELETE', url: `/v1/event-endpoints/${f.spareEndpointId}` }],
  'GET /v1/event-endpoints/:endpointId/deliveries': (f) => [{ method: 'GET', url: `/v1/event-endpoints/${f.endpointId}/deliveries` }],
  'POST /v1/event-endpoints/:endpointId/replay': (f) => [{ method: 'POST', url: `/v1/event-endpoints/${f.endpointId}/replay`, body: { since: new Date(Date.now() - 3_600_000).toISOString() } }],
  'POST /v1/contacts/erase': () => [{ method: 'POST', url: '/v1/contacts/erase', body: { businessId: 'acme', phone: phoneOf(), requestId: `scope-${Date.now()}` } }],
  'POST /v1/journeys/:journeyId/cancel': (f) => [{ method: 'POST', url: `/v1/journeys/${f.journeyId}/cancel`, body: { reason: 'scope test' } }],
};

let stack: TestStack;
let keyed: FastifyInstance;
let keyedUrl: string;
const registered: string[] = [];
let fixture: Fixture;

async function call(key: KeyName | string, c: Call): Promise<{ status: number; body: any }> {
  const secretOf = key in KEYS ? KEYS[key as KeyName].secret : key;
  const headers: Record<string, string> = { authorization: `Bearer ${secretOf}` };
  let body: string | undefined;
  if (c.csv !== undefined) {
    headers['content-type'] = 'text/csv';
    body = c.csv;
  } else if (c.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(c.body);
  }
  const res = await fetch(`${keyedUrl}${c.url}`, { method: c.method, headers, body });
  return { status: res.status, body: await readBody(res) };
}

/** Every document of every collection of the test's database: a refused call must leave it as it was. */
async function storeSnapshot(): Promise<string> {
  const db = stack.store.connection.db!;
  const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
  const parts: string[] = [];
  for (const name of names) parts.push(name, JSON.stringify(await db.collection(name).find({}).sort({ _id: 1 }).toArray()));
  return parts.join('\n');
}

async function workflowCount(): Promise<number> {
  return (await stack.client.workflow.count(`TaskQueue = "${stack.taskQueue}"`)).count;
}

/** Waits until the store stops changing (the fixtures' journey and campaign have settled into their long waits). */
async function settledSnapshot(): Promise<string> {
  let last = await storeSnapshot();
  for (let i = 0; i < 60; i++) {
    await sleep(500);
    const now = await storeSnapshot();
    if (now === last) return now;
    last = now;
  }
  throw new Error('the store never settled');
}

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'keys', businessesFile: fastBusinesses });
  keyed = await buildApp({ ...apiDepsWith(stack, stack.client), keysFile }, { onRoute: (r) => registered.push(...[r.method].flat().map((m) => `${m} ${r.url}`)) });
  await keyed.listen({ host: '127.0.0.1', port: 0 });
  keyedUrl = `http://127.0.0.1:${(keyed.server.address() as { port: number }).port}`;

  const phone = phoneOf();
  const journey = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: LONG_PLAN });
  expect(journey.status).toBe(202);
  const campaign = await stack.request('POST', '/v1/campaigns', { businessId: 'acme', name: 'fixture', categories: ['offers'], plan: LONG_PLAN, contacts: [{ phone: phoneOf() }] });
  expect(campaign.status).toBe(202);
  await waitForCampaign(stack, campaign.body.campaignId, (c) => c.progress?.started === 1 || c.counts?.started === 1 || JSON.stringify(c).includes('"started":1'));
  const endpoint = await stack.request('POST', '/v1/event-endpoints', { businessId: 'acme', url: 'http://127.0.0.1:9/consent-events' });
  const spare = await stack.request('POST', '/v1/event-endpoints', { businessId: 'acme', url: 'http://127.0.0.1:9/consent-events-spare' });
  expect([endpoint.status, spare.status]).toEqual([201, 201]);
  fixture = { journeyId: journey.body.journeyId, campaignId: campaign.body.campaignId, endpointId: endpoint.body.endpointId, spareEndpointId: spare.body.endpointId, phone };
});
afterAll(async () => {
  await keyed?.close();
  await stack?.close();
});

const v1Routes = () => [...new Set(registered.filter((r) => r.includes(' /v1/') && !r.startsWith('HEAD ')))].sort();

test('every registered /v1 route has an access rule and a case in this table', () => {
  expect(v1Routes().length).toBeGreaterThanOrEqual(15);
  expect(v1Routes()).toEqual(Object.keys(CASES).sort());
  expect(v1Routes()).toEqual(Object.keys(ROUTE_ACCESS).sort());
});

test('an admin key of another business gets 403 naming the business on every route that names one; nothing changes', async () => {
  const before = await settledSnapshot();
  const workflowsBefore = await workflowCount();
  let checked = 0;
  for (const route of v1Routes()) {
    if (ROUTE_ACCESS[route].business === 'none') continue;
    for (const c of CASES[route](fixture)) {
      const r = await call('admin-paced', c);
      expect({ route, csv: c.csv !== undefined, status: r.status, error: r.body?.error }).toEqual({ route, csv: c.csv !== undefined, status: 403, error: 'forbidden_business' });
      expect(r.body.message).toContain('"acme"');
      expect(r.body.message).toContain('"admin-paced"');
      checked++;
    }
  }
  expect(checked).toBeGreaterThanOrEqual(15);
  await sleep(1000);
  expect(await storeSnapshot()).toBe(before);
  expect(await workflowCount()).toBe(workflowsBefore);
});

test('a key of the right business whose role may not call the route gets 403 naming the role; nothing changes', async () => {
  const before = await settledSnapshot();
  const workflowsBefore = await workflowCount();
  const refused: string[] = [];
  for (const route of v1Routes()) {
    const allowed: readonly Role[] = ALLOWED[ROUTE_ACCESS[route].allowed];
    for (const role of ROLES.filter((r) => !allowed.includes(r))) {
      for (const c of CASES[route](fixture)) {
        const r = await call(`${role}-acme`, c);
        expect({ route, role, status: r.status, error: r.body?.error }).toEqual({ route, role, status: 403, error: 'forbidden_role' });
        expect(r.body.message).toContain(`"${role}"`);
        refused.push(`${role} ${route}`);
      }
    }
  }
  // read may only read; agent and campaigns may not call each other's routes.
  expect(refused).toEqual(expect.arrayContaining(['read POST /v1/journeys', 'agent POST /v1/journeys', 'campaigns POST /v1/optouts', 'read POST /v1/consents/offline', 'agent POST /v1/campaigns/:campaignId/pause']));
  await sleep(1000);
  expect(await storeSnapshot()).toBe(before);
  expect(await workflowCount()).toBe(workflowsBefore);
});

test('a key of the right business and role passes the check on every route', async () => {
  for (const route of v1Routes()) {
    const allowed: readonly Role[] = ALLOWED[ROUTE_ACCESS[route].allowed];
    // The narrowest role the route allows, so admin is not what makes it pass.
    const role = allowed.find((r) => r !== 'admin') ?? 'admin';
    for (const c of CASES[route](fixture)) {
      const r = await call(`${role}-acme`, c);
      expect({ route, role, status: r.status < 500 && r.status !== 401 && r.status !== 403, body: r.body?.error }).toEqual({ route, role, status: true, body: r.status === 409 ? r.body?.error : undefined });
    }
  }
  const me = await call('agent-acme', { method: 'GET', url: '/v1/keys/me' });
  expect(me.body).toEqual({ keyId: 'agent-acme', role: 'agent', businesses: ['acme'] });
});

test('a wrong key is 401; a plain API_KEYS key is an admin key for every business', async () => {
  expect((await call('not-a-configured-key-0123456789', { method: 'GET', url: '/v1/keys/me' })).status).toBe(401);
  const me = await stack.request('GET', '/v1/keys/me');
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ role: 'admin', businesses: '*' });
  expect(me.body.keyId).toMatch(/^api-keys\.[0-9a-f]{12}$/);
});

test('the ledger names the actor: the key with agent and ticket, the contact with the key that asked', async () => {
  const phone = phoneOf();
  const optOut = await call('agent-acme', { method: 'POST', url: '/v1/optouts', body: { businessId: 'acme', phone, reason: 'asked in the chat', source: { kind: 'agent' }, agentId: 'agent-9', ticketId: 'T-900' } });
  expect(optOut.status).toBe(202);
  const optedOut = await eventually('the opt-out events', async () => {
    const events = await stack.store.consentEvents.find({ contactId: { $exists: true }, type: 'opted_out', phone }).lean();
    return events.length === 3 && events;
  });
  for (const e of optedOut) expect(e.actor).toEqual({ kind: 'api_key', keyId: 'agent-acme', agentId: 'agent-9', ticketId: 'T-900' });

  const asked = phoneOf();
  const start = await call('campaigns-acme', { method: 'POST', url: '/v1/journeys', body: { businessId: 'acme', contact: { phone: asked }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] } });
  expect(start.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: asked })[0], 15_000);
  await stack.carrier.sendInbound({ from: asked, to: '+1500555006', body: 'YES' });
  await waitForJourneyStatus(stack, start.body.journeyId, 'confirmed');
  const optedIn = await eventually('the opt-in event', async () => stack.store.consentEvents.findOne({ phone: asked, type: 'opted_in' }).lean());
  expect(optedIn.actor).toEqual({ kind: 'contact', channel: 'sms', requestedBy: { keyId: 'campaigns-acme' } });
  const confirmation = await eventually('the confirmation event', async () => stack.store.consentEvents.findOne({ phone: asked, type: 'confirmation_sent' }).lean());
  expect(confirmation.actor).toEqual({ kind: 'system' });

  await stack.carrier.sendInbound({ from: asked, to: '+1500555006', body: 'STOP' });
  const stopped = await eventually('the STOP events', async () => stack.store.consentEvents.findOne({ phone: asked, type: 'opted_out' }).lean());
  expect(stopped.actor).toEqual({ kind: 'contact', channel: 'sms' });
  const view = await call('read-acme', { method: 'GET', url: `/v1/consents?businessId=acme&phone=${encodeURIComponent(asked)}` });
  expect(view.body.events.map((e: any) => e.actor.kind)).toEqual(expect.arrayContaining(['contact', 'system']));
});
