import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { startTemporalDevServer, type TemporalDevServer } from '../../dev/servers';
import { searchAttributeDefinitions } from '../../workflows/search-attributes';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * Temporal killed (SIGKILL) mid-traffic and restarted on its database: the journeys it held resume,
 * replies sent while it was down are acknowledged, kept, and applied once after it is back.
 */

jest.setTimeout(180_000);

const SMS_SENDER = '+15005550006';
const temporalBin = process.env.TEMPORAL_CLI_PATH || path.join(__dirname, '..', '..', '.tools', 'bin', 'temporal');

let dir: string;
let port: number;
let temporal: TemporalDevServer | undefined;
let stack: TestStack;

const startTemporal = () =>
  startTemporalDevServer({ bin: temporalBin, port, uiPort: 'headless', dbFile: path.join(dir, 'temporal.db'), searchAttributes: searchAttributeDefinitions, logFile: path.join(dir, 'temporal.log') });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-fault-'));
  port = await findFreePort();
  temporal = await startTemporal();
  stack = await startTestStack({ prefix: 'ftr', temporal: { address: temporal.address, namespace: temporal.namespace } });
});
afterAll(async () => {
  await stack?.close();
  await temporal?.stop();
});

const phones = ['+14155550731', '+14155550732', '+14155550733', '+14155550734'];
const waConfirmations = (phone: string) => stack.carrier.messages({ to: `whatsapp:${phone}` });

test('replies sent while Temporal is down are applied once after it restarts; the journeys it held resume', async () => {
  const journeyIds: string[] = [];
  for (const phone of phones) {
    const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '5m' }] });
    expect(r.status).toBe(202);
    journeyIds.push(r.body.journeyId);
  }
  for (const phone of phones) await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 20_000);

  temporal!.child.kill('SIGKILL');
  await new Promise((resolve) => temporal!.child.once('exit', resolve));

  // Two contacts answer during the outage; Twilio would not send these again, so each must be kept.
  const during = await Promise.all(phones.slice(0, 2).map((phone) => stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' })));
  expect(during.map((m) => m.status)).toEqual([200, 200]);
  expect(await stack.store.connection.collection('events_pending').countDocuments({ 'event.kind': 'inbound_message' })).toBe(2);

  temporal = await startTemporal();
  for (const journeyId of journeyIds.slice(0, 2)) await waitForJourneyStatus(stack, journeyId, 'confirmed', 60_000);

  // The other two journeys survived the restart and still take answers.
  for (const phone of phones.slice(2)) expect((await stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' })).status).toBe(200);
  for (const journeyId of journeyIds.slice(2)) await waitForJourneyStatus(stack, journeyId, 'confirmed', 60_000);

  for (const phone of phones) await stack.carrier.waitFor(() => waConfirmations(phone)[0], 30_000);
  await sleep(2_000);
  expect(phones.map((phone) => waConfirmations(phone).length)).toEqual([1, 1, 1, 1]);
  expect(await stack.store.connection.collection('events_pending').countDocuments({})).toBe(0);
});
