import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { numberedPhones, postAsTwilio } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';
import { productionWorkerEnv } from '../harness/stack-env';
import { eventually } from '../harness/wait';

/**
 * Prometheus metrics of the API (GET /metrics, no key) and of the production worker (its own port,
 * and the Temporal SDK's on another) after journeys that confirm, opt out, hit a provider 500 (settled on the next attempt) and
 * a carrier that refuses; no phone number, token or journey id ever appears in a label.
 */

jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const ACME_SMS = '+15005550006';
const phoneNo = numberedPhones(300);

let stack: TestStack;
let worker: ManagedProcess | undefined;
let workerMetricsUrl: string;
let sdkMetricsUrl: string;
const phones: string[] = [];
const journeyIds: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'metrics', worker: false });
  const [port, sdkPort] = [await findFreePort(), await findFreePort()];
  workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  worker = startNodeProcess({
    name: 'metrics-worker',
    entry: path.join(repoRoot, 'workers', 'main.ts'),
    cwd: repoRoot,
    env: { ...productionWorkerEnv(stack), WORKER_METRICS_HOST: '127.0.0.1', WORKER_METRICS_PORT: String(port), WORKER_SDK_METRICS_PORT: String(sdkPort) },
  });
  await waitUntil(() => worker!.tail(50).some((l) => l.includes('worker started')), { timeoutMs: 60_000, what: 'the worker process to start', process: worker });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

/** The value of the one series of `name` whose labels include `labels` (0 when there is none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

async function scrape(url: string): Promise<{ status: number; text: string; samples: Sample[] }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, text, samples: res.status === 200 ? parseMetrics(text) : [] };
}

function expectNoPersonalData(text: string): void {
  for (const phone of phones) {
    expect(text).not.toContain(phone);
    expect(text).not.toContain(phone.slice(1));
    expect(text).not.toContain(phone.slice(-7));
  }
  for (const journeyId of journeyIds) expect(text).not.toContain(journeyId);
}

const outbound = (phone: string) => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');

test('a confirmed journey, a STOP, an ambiguous send and a carrier refusal move the API and worker counters', async () => {
  const [confirming, stopping, ambiguous, unsubscribed] = [phoneNo(1), phoneNo(2), phoneNo(3), phoneNo(4)];
  phones.push(confirming, stopping, ambiguous, unsubscribed);
  const sms = [{ channel: 'sms', waitFor: '60s' }];

  const confirmed = await startJourney(stack, { contact: { phone: confirming }, categories: ['offers'], plan: sms });
  const stopped = await startJourney(stack, { contact: { phone: stopping }, categories: ['offers'], plan: sms });
  journeyIds.push(confirmed, stopped);
  await stack.carrier.waitFor(() => outbound(confirming)[0] && outbound(stopping)[0], 15_000);
  await stack.carrier.sendInbound({ from: confirming, to: ACME_SMS, body: 'YES' });
  await stack.carrier.sendInbound({ from: stopping, to: ACME_SMS, body: 'STOP' });
  await waitForJourneyStatus(stack, confirmed, 'confirmed', 30_000);
  await waitForJourneyStatus(stack, stopped, 'opted_out', 30_000);
  await stack.carrier.waitFor(() => outbound(stopping).find((m) => m.renderedText.includes('you are unsubscribed')), 15_000);

  // The carrier answers 500: the attempt fails (counted as an error) and the next one settles the send
  // by looking it up at the carrier (docs/ambiguous-sends.md), so the request ends up sent once.
  stack.carrier.injectFault({ target: 'messages', status: 500 });
  const unsure = await startJourney(stack, { contact: { phone: ambiguous }, categories: ['offers'], plan: sms });
  journeyIds.push(unsure);
  await eventually('the settled request', async () => (await stack.request('GET', `/v1/journeys/${unsure}`)).body.events?.some((e: any) => e.kind === 'request:sent'), 45_000);
  expect((await stack.request('POST', `/v1/journeys/${unsure}/cancel`, { reason: 'metrics test' })).status).toBe(200);

  // SMS refused by the carrier (21610: the recipient unsubscribed there), then WhatsApp refused by our send gate.
  stack.carrier.setRecipientBehaviour(unsubscribed, { unsubscribed: true });
  const refused = await startJourney(stack, { contact: { phone: unsubscribed }, categories: ['offers'], plan: [...sms, { channel: 'whatsapp', waitFor: '60s' }] });
  journeyIds.push(refused);
  await waitForJourneyStatus(stack, refused, 'opted_out', 30_000);

  // A webhook without Twilio's signature, and a URL no route matches, carrying a phone number.
  const forged = await fetch(`${stack.apiUrl}/webhooks/twilio/messaging`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `From=${encodeURIComponent(confirming)}&Body=STOP` });
  expect(forged.status).toBe(403);
  expect((await fetch(`${stack.apiUrl}/nowhere/${encodeURIComponent(confirming)}`)).status).toBe(404);
  // A status callback for the confirmed journey's request, as Twilio sends it.
  const status = await postAsTwilio(stack.apiUrl, '/webhooks/twilio/status', { MessageSid: outbound(confirming)[0].sid, MessageStatus: 'delivered' });
  expect(status.status).toBe(204);

  const api = await scrape(`${stack.apiUrl}/metrics`);
  expect(api.status).toBe(200);
  const a = api.samples;
  expect(valueOf(a, 'optinflow_journeys_started_total', { channel: 'sms', source: 'api' })).toBe(4);
  expect(valueOf(a, 'optinflow_optouts_total', { source: 'keyword', channel: 'sms' })).toBe(1);
  expect(api.text).toContain('optinflow_optouts_total{source="keyword",channel="sms"} 1');
  expect(valueOf(a, 'optinflow_optout_requests_total', { source: 'keyword', progress: 'blocked' })).toBe(1);
  expect(valueOf(a, 'optinflow_webhooks_total', { webhook: 'twilio/messaging', outcome: 'accepted' })).toBe(2);
  expect(valueOf(a, 'optinflow_webhooks_total', { webhook: 'twilio/messaging', outcome: 'bad_signature' })).toBe(1);
  expect(valueOf(a, 'optinflow_webhooks_total', { webhook: 'twilio/status', outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
  expect(valueOf(a, 'optinflow_http_request_duration_seconds_count', { method: 'POST', route: '/v1/journeys', status_code: '202' })).toBe(4);
  expect(valueOf(a, 'optinflow_http_request_duration_seconds_count', { method: 'GET', route: '/v1/journeys/:journeyId', status_code: '200' })).toBeGreaterThan(0);
  expect(valueOf(a, 'optinflow_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
  expect(a.some((s) => s.name === 'optinflow_pending_optouts' && s.value === 0)).toBe(true);
  expect(a.some((s) => s.name === 'optinflow_pending_events' && s.value === 0)).toBe(true);
  expect(valueOf(a, 'optinflow_sweep_runs_total', { sweep: 'pending_optouts' })).toBeGreaterThanOrEqual(1);
  expect(valueOf(a, 'optinflow_sweep_failures_total', { sweep: 'pending_optouts' })).toBe(0);
  expect(valueOf(a, 'optinflow_sweep_last_success_timestamp_seconds', { sweep: 'pending_events' })).toBeGreaterThan(Date.now() / 1000 - 120);
  expectNoPersonalData(api.text);

  const w = await scrape(workerMetricsUrl);
  expect(w.status).toBe(200);
  const s = w.samples;
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'sms', purpose: 'request', outcome: 'sent' })).toBe(3);
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'sms', purpose: 'request', outcome: 'error' })).toBe(1);
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'sms', purpose: 'request', outcome: 'failed' })).toBe(1);
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'whatsapp', purpose: 'request', outcome: 'refused' })).toBe(1);
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'sms', purpose: 'optout_confirmation', outcome: 'sent' })).toBe(1);
  expect(valueOf(s, 'optinflow_sends_total', { channel: 'whatsapp', purpose: 'confirmation', outcome: 'sent' })).toBe(1);
  expect(valueOf(s, 'optinflow_journeys_ended_total', { outcome: 'confirmed' })).toBe(1);
  expect(valueOf(s, 'optinflow_journeys_ended_total', { outcome: 'opted_out' })).toBe(2);
  expect(valueOf(s, 'optinflow_journeys_ended_total', { outcome: 'cancelled' })).toBe(1);
  // The carrier's refusal starts its opt-out inside the worker's send activity.
  expect(valueOf(s, 'optinflow_optouts_total', { source: 'provider', channel: 'provider' })).toBe(1);
  expect(valueOf(s, 'optinflow_optout_recorded_seconds_count')).toBe(2);
  expectNoPersonalData(w.text);

  const sdk = await scrape(sdkMetricsUrl);
  expect(sdk.status).toBe(200);
  expect(sdk.samples.some((x) => x.name.startsWith('temporal_workflow_task_schedule_to_start_latency_seconds'))).toBe(true);
  // A journey's sends and confirmation and an opt-out's step run as local activities (journeyWorkflowV4, optOutWorkflowV6).
  expect(sdk.samples.some((x) => x.name.startsWith('temporal_local_activity_execution_latency_seconds'))).toBe(true);
  expectNoPersonalData(sdk.text);
});

test('GET /metrics needs no API key, and the worker endpoint answers nothing but /metrics', async () => {
  const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: 'Bearer wrong-key-0123456789abcdef' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  expect(await res.text()).toContain('# TYPE optinflow_http_request_duration_seconds histogram');
  expect((await fetch(workerMetricsUrl.replace('/metrics', '/other'))).status).toBe(404);
});
