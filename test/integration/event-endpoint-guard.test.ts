import type { FastifyInstance } from 'fastify';
import { NativeConnection } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import { buildApp } from '../../api/app';
import { createOptinflowWorker } from '../../workers/worker';
import { numberedPhones } from '../harness/contact';
import { readBody } from '../harness/http';
import { testTemporalAddress, testWorkflowBundle, uniqueName } from '../harness/servers';
import { startTestStack, type TestStack } from '../harness/stack';
import { apiDepsWith } from '../harness/stack-env';
import { eventually } from '../harness/wait';

/**
 * Event endpoints cannot be aimed at the deployment's own network unless the operator allows it
 * (EVENT_ENDPOINTS_ALLOW_PRIVATE): registration refuses plainly internal URLs naming the field, and the
 * worker refuses to connect where a name resolves to an internal address, whatever was registered.
 */

jest.setTimeout(120_000);

let stack: TestStack;
const apps: FastifyInstance[] = [];
let receiver: Server;
let receiverHits = 0;

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

async function post(base: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await readBody(res) };
}

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'epguard' });
  receiver = createServer((req, res) => {
    receiverHits += 1;
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await stack?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('by default, loopback, private, link-local and local-name receivers are refused with a 400 naming url; nothing is stored', async () => {
  const guarded = await listen(await buildApp({ ...apiDepsWith(stack, stack.client), allowPrivateReceivers: false }));
  for (const url of ['http://127.0.0.1:9/hooks', 'http://10.0.0.7/hooks', 'http://[::1]:8080/hooks', 'http://169.254.169.254/latest/meta-data', 'https://localhost/hooks', 'http://[::ffff:192.168.0.1]/hooks']) {
    const r = await post(guarded, '/v1/event-endpoints', { businessId: 'acme', url });
    expect([url, r.status]).toEqual([url, 400]);
    expect(r.body.issues).toEqual([expect.objectContaining({ field: 'url', rule: expect.stringMatching(/public address.*EVENT_ENDPOINTS_ALLOW_PRIVATE/) })]);
  }
  expect(await stack.store.connection.collection('event_endpoints').countDocuments({})).toBe(0);
});

test('a worker that does not allow private receivers never connects to one, and the delivery log says why', async () => {
  // An endpoint accepted earlier (allowed then, or a name that resolves inside the network now) on a queue served by a guarded worker.
  const taskQueue = uniqueName('epguard-worker');
  const allowing = await listen(await buildApp({ ...apiDepsWith(stack, stack.client), taskQueue, eventDelivery: { retryInitialMs: 500, retryMaxMs: 1_000, settleMs: 100, requestTimeoutMs: 2_000 } }));
  const connection = await NativeConnection.connect({ address: testTemporalAddress() });
  const worker = await createOptinflowWorker({ connection, namespace: stack.client.options.namespace, taskQueue, workflowBundlePath: testWorkflowBundle().codePath, deps: { ...stack.activityDeps, allowPrivateReceivers: false }, shutdownGraceTime: 0, shutdownForceTime: 10_000 });
  const running = worker.run();
  try {
    const port = (receiver.address() as { port: number }).port;
    const registered = await post(allowing, '/v1/event-endpoints', { businessId: 'acme', url: `http://localhost:${port}/hooks` });
    expect(registered.status).toBe(201);
    const paper = await post(stack.apiUrl, '/v1/consents/offline', { businessId: 'acme', phone: numberedPhones(300)(1), categories: ['offers'], evidence: { documentRef: 'paper-guard-1', signedAt: new Date(Date.now() - 60_000).toISOString(), collectedBy: 'store #2' } });
    expect(paper.status).toBe(202);
    const failing = await eventually(
      'a refused delivery in the log',
      async () => {
        const res = await fetch(`${allowing}/v1/event-endpoints/${registered.body.endpointId}/deliveries?status=failing`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
        const body = (await res.json()) as { deliveries: { lastError?: string; attempts: number }[] };
        return body.deliveries.find((d) => d.attempts >= 2);
      },
      60_000,
    );
    expect(failing.lastError).toBe('private_address');
    expect(receiverHits).toBe(0);
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  }
});
