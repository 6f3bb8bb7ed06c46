import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCarrier, type Carrier } from '../../dev/carrier/carrier';
import { carrierContentFor } from '../../dev/content-templates';
import { findFreePort } from '../../dev/free-port';
import { httpOk, startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { loadBusinesses } from '../../lib/businesses';
import { bodyNeedles, emailNeedles, findLeaks, phoneNeedles } from '../harness/log-scan';
import { freshPhones, postAsTwilio } from '../harness/contact';
import { testMongoUri, testTemporalAddress, testTemporalNamespace, testWorkflowBundle, uniqueName } from '../harness/servers';
import { TEST_ACCOUNT_SID, TEST_API_KEY, TEST_AUTH_TOKEN, TEST_META, TEST_PAGE_SECRET } from '../harness/stack';

/**
 * The worker and the API run as `npm start` runs them (their own processes, stdout into
 * logs/<component>.log) through a journey, a reply, a STOP, an API opt-out and failures at the
 * provider and in the store; afterwards no log line may hold the contacts' numbers, addresses or
 * what was said to them or by them.
 */

jest.setTimeout(180_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const businessesFile = path.join(repoRoot, 'config', 'businesses.demo.json');
const SMS_SENDER = '+15005550006';
const SLOW = 20_000;

let workDir: string;
let carrier: Carrier;
let apiUrl: string;
const components: ManagedProcess[] = [];

async function api(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

async function waitForJourney(journeyId: string, ready: (j: any) => boolean, what: string): Promise<any> {
  let last: any;
  await waitUntil(async () => ready((last = (await api('GET', `/v1/journeys/${journeyId}`)).body)), { timeoutMs: SLOW, what: `journey ${what}` }).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
  });
  return last;
}

function logFile(name: string): string {
  return path.join(workDir, 'logs', `${name}.log`);
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-logs-'));
  const businesses = loadBusinesses(businessesFile);
  carrier = await startCarrier({ httpPort: 0, smtpPort: 0, accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, statusCallbackDelayMs: 20, ...carrierContentFor(businesses.all()) });
  const apiPort = await findFreePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  carrier.setInboundMessageUrl(`${apiUrl}/webhooks/twilio/messaging`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: testTemporalNamespace(),
    TEMPORAL_TASK_QUEUE: uniqueName('logs'),
    WORKFLOW_BUNDLE_PATH: testWorkflowBundle().codePath,
    MONGODB_URI: testMongoUri(uniqueName('db')),
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_API_BASE_URL: carrier.httpUrl,
    SMTP_URL: `smtp://127.0.0.1:${carrier.smtpPort}`,
    PUBLIC_BASE_URL: apiUrl,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_KEYS: TEST_API_KEY,
    PAGE_TOKEN_SECRET: TEST_PAGE_SECRET,
    META_ACCESS_TOKEN: TEST_META.accessToken,
    META_APP_SECRET: TEST_META.appSecret,
    META_VERIFY_TOKEN: TEST_META.verifyToken,
    META_GRAPH_BASE_URL: carrier.httpUrl,
    BUSINESSES_FILE: businessesFile,
  };
  const worker = startNodeProcess({ name: 'worker', entry: path.join(repoRoot, 'workers', 'main.ts'), env, cwd: repoRoot, logFile: logFile('worker') });
  components.push(worker);
  const server = startNodeProcess({ name: 'api', entry: path.join(repoRoot, 'api', 'server.ts'), env, cwd: repoRoot, logFile: logFile('api') });
  components.push(server);
  await waitUntil(() => worker.tail(50).some((l) => l.includes('worker started')), { timeoutMs: 60_000, what: 'the worker to start', process: worker });
  await waitUntil(() => httpOk(`${apiUrl}/healthz`), { timeoutMs: 60_000, intervalMs: 300, what: 'the API to answer /healthz', process: server });
});

afterAll(async () => {
  for (const component of components.reverse()) await component.stop(2_000);
  await carrier?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('no phone number, e-mail address or message body reaches the worker or API log', async () => {
  const phone = freshPhones('+1415309');
  const tag = randomBytes(4).toString('hex');
  const [replying, refused, ambiguous, apiOptOut, hostile] = [phone(), phone(), phone(), phone(), phone()];
  const emails = [`dana.${tag}@example.org`, `refused.${tag}@example.net`];
  const saidByContacts = [`maybe later, ask me again on tuesday ${tag}`, `do not write to me any more ${tag}`, `profile name of a contact ${tag}`];

  // A journey answered in two replies, then a STOP; the number goes in as people type it.
  const grouped = `+1 (415) 309-${replying.slice(-4)}`;
  const started = await api('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: grouped, email: emails[0] }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(started.status).toBe(202);
  await carrier.waitFor(() => carrier.messages({ to: replying })[0], SLOW);
  await carrier.sendInbound({ from: replying, to: SMS_SENDER, body: saidByContacts[0] });
  await carrier.waitFor(() => carrier.messages({ to: replying }).length >= 2, SLOW);
  await carrier.sendInbound({ from: replying, to: SMS_SENDER, body: 'Yes' });
  await waitForJourney(started.body.journeyId, (j) => j.status === 'confirmed', 'to be confirmed');
  await carrier.sendInbound({ from: replying, to: SMS_SENDER, body: 'STOP' });
  await waitUntil(async () => (await api('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(replying)}`)).body.messaging === 'opted_out', { timeoutMs: SLOW, what: 'the STOP to be honoured' });

  // The provider refuses the number at once: the journey moves on to e-mail.
  carrier.setRecipientBehaviour(refused, { failWith: 21211 });
  const moved = await api('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: refused, email: emails[1] }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }, { channel: 'email', waitFor: '30s' }] });
  expect(moved.status).toBe(202);
  await carrier.waitFor(() => carrier.emails({ to: emails[1] })[0], SLOW);

  // The provider answers 500 to a request: the send's outcome is unknown.
  carrier.injectFault({ target: 'messages', status: 500 });
  const unknown = await api('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: ambiguous }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '30s' }] });
  expect(unknown.status).toBe(202);
  await waitForJourney(unknown.body.journeyId, (j) => (j.events ?? []).length > 0, 'to record its first send');

  // An opt-out by API, and reads of consents keyed by the number in the query string.
  expect((await api('POST', '/v1/optouts', { businessId: 'acme', phone: apiOptOut, reason: saidByContacts[1], source: { kind: 'agent' } })).status).toBeLessThan(300);
  expect((await api('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(apiOptOut)}`)).status).toBe(200);
  expect((await api('GET', `/v1/consents?businessId=nobody&phone=${encodeURIComponent(hostile)}`)).status).toBeGreaterThanOrEqual(400);

  // A signed STOP whose form the store cannot keep, and an unsigned one.
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: TEST_ACCOUNT_SID, From: hostile, To: SMS_SENDER, Body: 'STOP', NumMedia: '0', ProfileName: saidByContacts[2], $where: hostile };
  expect((await postAsTwilio(apiUrl, '/webhooks/twilio/messaging', params)).status).toBeLessThan(500);
  expect((await postAsTwilio(apiUrl, `/webhooks/twilio/messaging?From=${encodeURIComponent(hostile)}`, params, 'not-the-token')).status).toBe(403);
  // Let failing activities retry a few times, as they would in a day of traffic.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  for (const id of [started.body.journeyId, moved.body.journeyId, unknown.body.journeyId]) await api('POST', `/v1/journeys/${id}/cancel`, {});

  for (const component of [...components].reverse()) await component.stop(5_000);
  const sentToContacts = [...carrier.messages().map((m) => m.renderedText || m.body), ...carrier.emails().map((m) => m.text)].flatMap((body) => bodyNeedles(body));
  const needles = [
    ...[replying, refused, ambiguous, apiOptOut, hostile].flatMap(phoneNeedles),
    ...emails.flatMap(emailNeedles),
    ...saidByContacts,
    ...new Set(sentToContacts),
  ];
  const leaks = findLeaks([logFile('worker'), logFile('api')], needles);
  const summary = leaks.slice(0, 15).map((l) => `${path.basename(l.file)}:${l.line} has "${l.needle}": ${l.text}`);
  expect({ leaks: leaks.length, first: summary }).toEqual({ leaks: 0, first: [] });
  // The logs hold what happened, with the numbers masked rather than the lines missing.
  expect(readFileSync(logFile('api'), 'utf8')).toContain('/v1/consents?businessId=acme&phone=[redacted]');
  expect(readFileSync(logFile('worker'), 'utf8')).toContain('opt-out honoured');
});
