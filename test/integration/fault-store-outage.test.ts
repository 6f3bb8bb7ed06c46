import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { startFerretDb, type FerretDbServer } from '../../dev/servers';
import { waitForConsents } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * The store (FerretDB) killed while contacts answer and opt out: every webhook is still acknowledged
 * (Temporal holds the event), everything is applied once the store is back, and nothing but the one
 * opt-out confirmation reaches a contact who said STOP.
 */

jest.setTimeout(180_000);

const SMS_SENDER = '+15005550006';
/** Long enough for every activity to fail and retry against a dead store; CI time keeps it short of the 30 s tried by hand. */
const OUTAGE_MS = 12_000;
const ferretBin = process.env.FERRETDB_PATH || path.join(__dirname, '..', '..', '.tools', 'bin', 'ferretdb');

let dir: string;
let port: number;
let ferret: FerretDbServer | undefined;
let stack: TestStack;

const startStore = () => startFerretDb({ bin: ferretBin, port, dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-store-fault-'));
  port = await findFreePort();
  ferret = await startStore();
  stack = await startTestStack({ prefix: 'fso', mongoUri: ferret.uri });
});
afterAll(async () => {
  await stack?.close();
  await ferret?.stop();
});

test('STOPs and replies during a store outage are acknowledged, applied once it is back, and an opted-out contact gets only the confirmation', async () => {
  const answering = ['+14155550741', '+14155550742'];
  const stopping = ['+14155550743', '+14155550744'];
  const journeyIds = new Map<string, string>();
  for (const phone of [...answering, ...stopping]) {
    const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '5m', remindAfter: ['40s'] }] });
    expect(r.status).toBe(202);
    journeyIds.set(phone, r.body.journeyId);
  }
  for (const phone of journeyIds.keys()) await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 20_000);

  ferret!.child.kill('SIGKILL');
  await new Promise((resolve) => ferret!.child.once('exit', resolve));
  const outageEnds = Date.now() + OUTAGE_MS;

  const answers = await Promise.all([
    ...answering.map((phone) => stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'YES' })),
    ...stopping.map((phone) => stack.carrier.sendInbound({ from: phone, to: SMS_SENDER, body: 'STOP' })),
  ]);
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
  const stoppedAt = Date.now();

  await sleep(Math.max(0, outageEnds - Date.now()));
  ferret = await startStore();

  for (const phone of answering) await waitForJourneyStatus(stack, journeyIds.get(phone)!, 'confirmed', 90_000);
  for (const phone of stopping) {
    await waitForJourneyStatus(stack, journeyIds.get(phone)!, 'opted_out', 90_000);
    await waitForConsents(stack, phone, (c) => c.messaging === 'opted_out' && c.events.some((e: any) => e.type === 'opted_out'), 90_000);
  }
  for (const phone of answering) await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 30_000);
  for (const phone of stopping) await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).find((m) => m.createdAt > new Date(stoppedAt - 1000).toISOString()), 30_000);
  await sleep(3_000);

  for (const phone of answering) expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(1);
  for (const phone of stopping) {
    // The opt-in request before the outage, then only the opt-out confirmation: no reminder, no second confirmation.
    const after = stack.carrier.messages({ to: phone }).filter((m) => Date.parse(m.createdAt) >= stoppedAt - 1000);
    expect(after).toHaveLength(1);
    expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(0);
  }
});
