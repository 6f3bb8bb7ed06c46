import type { FastifyInstance } from 'fastify';
import { type ApiDeps } from '../../api/app';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyEvent } from '../../lib/event-signature';
import { SEALED_PREFIX, secretBox } from '../../lib/secret-box';
import { resealEndpointSecrets, wakeEndpoint } from '../../services/event-endpoints';
import { findEndpoint, insertEndpoint } from '../../store/event-endpoints';
import { numberedPhones } from '../harness/contact';
import { listenApi, startEventReceiver, type EventReceiver } from '../harness/event-receiver';
import { startTestStack, TEST_EVENT_SECRETS_KEY, type TestStack } from '../harness/stack';
import { apiDepsWith } from '../harness/stack-env';
import { eventually } from '../harness/wait';

/**
 * Event endpoints' signing secrets are sealed in the store (EVENT_SECRETS_KEY): what MongoDB holds is
 * not the secret, yet every delivery is signed with it. An endpoint kept plain by an older version
 * is still delivered to, and sealed when the API starts; so is one sealed under a key since replaced
 * (EVENT_SECRETS_PREVIOUS_KEYS). Without the key nothing is registered.
 */

jest.setTimeout(120_000);

const phoneNo = numberedPhones(200);
const FAST = { retryInitialMs: 1_000, retryMaxMs: 5_000, settleMs: 200, idleCheckMs: 30_000, requestTimeoutMs: 2_000 };

let stack: TestStack;
let deps: ApiDeps;
let api: FastifyInstance;
let apiUrl: string;
let receiver: EventReceiver;
let receiverUrl: string;
/** Per endpoint (the receiver's path), the events it got and whether each verified with the secret the test knows. */
const got = new Map<string, Array<{ id: string; signed: boolean }>>();
const secrets = new Map<string, string>();

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'epsecret' });
  deps = { ...apiDepsWith(stack, stack.client), eventDelivery: FAST };
  ({ app: api, url: apiUrl } = await listenApi(deps));
  receiver = await startEventReceiver((text, req) => {
    const path = req.url ?? '/';
    const signed = verifyEvent(secrets.get(path) ?? '', { timestamp: req.headers[TIMESTAMP_HEADER] as string, signature: req.headers[SIGNATURE_HEADER] as string }, text);
    got.set(path, [...(got.get(path) ?? []), { id: JSON.parse(text).id, signed }]);
    return 204;
  });
  receiverUrl = receiver.url;
});

afterAll(async () => {
  await api?.close();
  await stack?.close();
  await receiver?.close();
});

async function call(app: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app}${path}`, { method, headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A paper consent for a new contact: one ledger event per category, delivered to every endpoint of acme. */
async function ledgerEvent(ref: string): Promise<void> {
  const r = await call(apiUrl, 'POST', '/v1/consents/offline', { businessId: 'acme', phone: phoneNo(got.size * 10 + ref.length), categories: ['offers'], evidence: { documentRef: ref, signedAt: new Date(Date.now() - 3_600_000).toISOString(), collectedBy: 'store #2' } });
  expect(r.status).toBe(202);
  await stack.client.workflow.getHandle(r.body.directConsentId).result();
}

const signedDeliveries = (path: string, atLeast: number) =>
  eventually(`${atLeast} signed deliveries to ${path}`, async () => {
    const list = got.get(path) ?? [];
    return list.length >= atLeast ? list : undefined;
  }, 60_000);

test('a registered secret is sealed in the store, and deliveries are signed with it', async () => {
  const secret = 'receiver-chosen-secret-0123456789-abcdef';
  secrets.set('/sealed', secret);
  const r = await call(apiUrl, 'POST', '/v1/event-endpoints', { businessId: 'acme', url: `${receiverUrl}/sealed`, secret });
  expect(r.status).toBe(201);
  expect(r.body.secret).toBeUndefined();

  const stored = (await findEndpoint(stack.store, r.body.endpointId))!.secret;
  expect(stored.startsWith(SEALED_PREFIX)).toBe(true);
  expect(stored).not.toContain(secret);
  expect(stored).not.toContain(Buffer.from(secret).toString('base64url').slice(0, 12));

  await ledgerEvent('paper-sealed-1');
  const list = await signedDeliveries('/sealed', 1);
  expect(list.every((d) => d.signed)).toBe(true);
});

test('an endpoint kept plain by an older version is delivered to, then sealed at the API start without a change in signatures', async () => {
  const secret = 'plain-secret-from-an-older-version-0123456789';
  secrets.set('/legacy', secret);
  const endpoint = { _id: 'ep_00112233445566aa', businessId: 'acme', url: `${receiverUrl}/legacy`, secret, deliverFrom: new Date() };
  await insertEndpoint(stack.store, endpoint);
  await wakeEndpoint(deps, endpoint, FAST);
  await ledgerEvent('paper-legacy-1');
  expect((await signedDeliveries('/legacy', 1)).every((d) => d.signed)).toBe(true);

  // What the API does when it starts with EVENT_SECRETS_KEY set; a second run finds nothing left.
  expect(await resealEndpointSecrets(deps)).toEqual({ sealed: 1, resealed: 0, unopenable: [] });
  expect(await resealEndpointSecrets(deps)).toEqual({ sealed: 0, resealed: 0, unopenable: [] });
  const stored = (await findEndpoint(stack.store, endpoint._id))!.secret;
  expect(stored.startsWith(SEALED_PREFIX)).toBe(true);
  expect(stored).not.toContain(secret);

  const before = got.get('/legacy')!.length;
  await ledgerEvent('paper-legacy-2');
  const list = await signedDeliveries('/legacy', before + 1);
  expect(list.every((d) => d.signed)).toBe(true);
});

test('after a key change, a secret sealed under the previous key is sealed again under the new one at the API start', async () => {
  const previousKey = 'event-secrets-key-before-the-rotation-0123456789';
  const secret = 'secret-sealed-under-the-previous-key-0123456789';
  secrets.set('/rotated', secret);
  const endpoint = { _id: 'ep_00112233445566bb', businessId: 'acme', url: `${receiverUrl}/rotated`, secret: secretBox(previousKey).seal(secret, 'ep_00112233445566bb'), deliverFrom: new Date() };
  await insertEndpoint(stack.store, endpoint);
  const lost = { _id: 'ep_00112233445566cc', businessId: 'acme', url: `${receiverUrl}/lost`, secret: secretBox('a-key-nobody-configured-any-more-0123456789').seal('gone-secret-0123456789abcdef', 'ep_00112233445566cc'), deliverFrom: new Date() };
  await insertEndpoint(stack.store, lost);

  // The API of the new settings: EVENT_SECRETS_KEY the current key, the old one among the previous keys.
  const rotating = { ...deps, eventSecrets: secretBox(TEST_EVENT_SECRETS_KEY, [previousKey]) };
  expect(await resealEndpointSecrets(rotating)).toEqual({ sealed: 0, resealed: 1, unopenable: [lost._id] });
  expect(await resealEndpointSecrets(rotating)).toEqual({ sealed: 0, resealed: 0, unopenable: [lost._id] });
  const stored = (await findEndpoint(stack.store, endpoint._id))!.secret;
  expect(stored).not.toBe(endpoint.secret);
  expect(secretBox(TEST_EVENT_SECRETS_KEY).open(stored, endpoint._id)).toBe(secret);
  expect((await findEndpoint(stack.store, lost._id))!.secret).toBe(lost.secret);

  // The worker has only the current key, and signs with the secret the receiver registered.
  await wakeEndpoint(deps, endpoint, FAST);
  await ledgerEvent('paper-rotated-1');
  expect((await signedDeliveries('/rotated', 1)).every((d) => d.signed)).toBe(true);
});

test('without EVENT_SECRETS_KEY nothing is registered (503), and a secret that looks sealed is a 400', async () => {
  const { app: bare, url: bareUrl } = await listenApi({ ...deps, eventSecrets: undefined });
  try {
    const before = await stack.store.connection.collection('event_endpoints').countDocuments();
    const r = await call(bareUrl, 'POST', '/v1/event-endpoints', { businessId: 'acme', url: `${receiverUrl}/never` });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ error: 'event_endpoints_not_configured' });
    expect(await stack.store.connection.collection('event_endpoints').countDocuments()).toBe(before);
  } finally {
    await bare.close();
  }
  const looksSealed = await call(apiUrl, 'POST', '/v1/event-endpoints', { businessId: 'acme', url: `${receiverUrl}/x`, secret: `${SEALED_PREFIX}0123456789abcdef0123456789abcdef` });
  expect(looksSealed.status).toBe(400);
  expect(looksSealed.body.issues.find((i: any) => i.field === 'secret')?.rule).toMatch(/must not begin with "sealed\.v1\."/);
});
