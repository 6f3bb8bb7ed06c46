import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';

/** The `optinflow` bin as a campaign owner's script runs it: a child process, --json, exit codes. */

const repoRoot = path.resolve(__dirname, '..', '..');
const bin = path.join(repoRoot, 'bin', 'optinflow.js');
const fastBusinesses = path.join(repoRoot, 'test', 'fixtures', 'businesses.fast.json');

let stack: TestStack;
let dir: string;
jest.setTimeout(90_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmpcli', businessesFile: fastBusinesses });
  dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-cli-'));
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

function optinflow(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const childEnv = { ...process.env, OPTINFLOW_API_URL: stack.apiUrl, OPTINFLOW_API_KEY: stack.apiKey, ...env };
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('campaign start --json uploads the CSV, follows it to the end of starting and prints the figures', async () => {
  const csv = path.join(dir, 'contacts.csv');
  writeFileSync(csv, ['phone,name,locale', '+14155558001,Ana,en', '+14155558002,Bo,', '+14155558001,Ana again,', '12,short,', '+14155558003,Cy,pt-BR'].join('\n'));
  const plan = path.join(dir, 'plan.json');
  writeFileSync(plan, JSON.stringify([{ channel: 'sms', waitFor: '30s' }]));

  const r = await optinflow(['campaign', 'start', '--business', 'acme', '--file', csv, '--categories', 'order_updates,offers', '--plan', plan, '--wait', 'started', '--poll', '200', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.start.rows).toMatchObject({ total: 5, accepted: 3, skipped: 2, skippedByReason: { duplicate_in_file: 1, invalid_phone: 1 } });
  expect(out.campaign).toMatchObject({ status: 'completed', started: 3, name: 'contacts.csv' });
  for (const phone of ['+14155558001', '+14155558002', '+14155558003']) {
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).length === 1, 10_000);
  }

  const status = await optinflow(['campaign', 'status', out.start.campaignId]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`Campaign ${out.start.campaignId} "contacts.csv" (acme): completed`);
  expect(status.stdout).toMatch(/sent \(journeys started\)\s+3/);
  expect(status.stdout).toMatch(/duplicate in file\s+1/);

  const rows = await optinflow(['campaign', 'rows', out.start.campaignId, '--outcome', 'skipped', '--json']);
  expect(rows.code).toBe(0);
  expect(JSON.parse(rows.stdout).rows.map((x: any) => [x.row, x.reason])).toEqual([[3, 'duplicate_in_file'], [4, 'invalid_phone']]);

  const reply = await stack.carrier.sendInbound({ from: '+14155558002', to: '+1500555006', body: 'YES' });
  expect(reply.status).toBe(200);
  let shown: any;
  for (const until = Date.now() + 20_000; !shown && Date.now() < until; await sleep(250)) {
    const c = await optinflow(['consent', 'show', '+14155558002', '--business', 'acme', '--json']);
    const body = JSON.parse(c.stdout);
    if (body.categories.find((x: any) => x.category === 'offers')?.status === 'opted_in') shown = body;
  }
  expect(shown).toBeDefined();
  expect(shown.categories.find((x: any) => x.category === 'order_updates').status).toBe('opted_in');

  const optout = await optinflow(['optout', '+14155558002', '--business', 'acme']);
  expect(optout.code).toBe(0);
  expect(optout.stdout).toMatch(/^Opt-out optout\.api\..+: accepted for all/);
});

test('journey start, status and cancel', async () => {
  const started = await optinflow(['journey', 'start', '--business', 'acme', '--phone', '+14155558101', '--categories', 'offers', '--json']);
  expect(started.code).toBe(0);
  const { journeyId } = JSON.parse(started.stdout);
  const status = await optinflow(['journey', 'status', journeyId]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`Journey ${journeyId}: active`);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: '+14155558101' }).length === 1, 10_000);
  const cancelled = await optinflow(['journey', 'cancel', journeyId, '--reason', 'test', '--json']);
  expect(cancelled.code).toBe(0);
  expect(JSON.parse(cancelled.stdout).status).toBe('cancelled');
});

test('exit codes: wrong key 3, API unreachable 2, refused input 4, unknown campaign 5, usage 1', async () => {
  const csv = path.join(dir, 'bad.csv');
  writeFileSync(csv, 'phone,fax\n+14155558201,1\n');

  const wrongKey = await optinflow(['campaign', 'status', 'cmp_0000000000000000'], { OPTINFLOW_API_KEY: 'not-the-key-0123456789' });
  expect(wrongKey.code).toBe(3);
  expect(wrongKey.stderr).toContain('the API refused the key (401)');

  const unreachable = await optinflow(['campaign', 'status', 'cmp_0000000000000000', '--api-url', 'http://127.0.0.1:9']);
  expect(unreachable.code).toBe(2);
  expect(unreachable.stderr).toContain('cannot reach the Optinflow API at http://127.0.0.1:9');

  const badHeader = await optinflow(['campaign', 'start', '--business', 'acme', '--file', csv, '--categories', 'offers', '--json']);
  expect(badHeader.code).toBe(4);
  expect(JSON.parse(badHeader.stdout)).toMatchObject({ exitCode: 4, api: { error: 'invalid_csv' } });
  expect(badHeader.stderr).toContain('"fax"');

  const missing = await optinflow(['campaign', 'status', 'cmp_0000000000000000']);
  expect(missing.code).toBe(5);
  expect(missing.stderr).toContain('campaign cmp_0000000000000000 not found');

  const usage = await optinflow(['campaign', 'start', '--business', 'acme']);
  expect(usage.code).toBe(1);
  expect(usage.stderr).toContain("required option '--file <csv>' not specified");

  const noFile = await optinflow(['campaign', 'start', '--business', 'acme', '--file', path.join(dir, 'nope.csv'), '--categories', 'offers']);
  expect(noFile.code).toBe(1);
  expect(noFile.stderr).toContain('ENOENT');

  const remoteWithoutKey = await optinflow(['campaign', 'status', 'cmp_0000000000000000', '--api-url', 'https://optinflow.example.com'], { OPTINFLOW_API_KEY: '' });
  expect(remoteWithoutKey.code).toBe(1);
  expect(remoteWithoutKey.stderr).toContain('no API key for https://optinflow.example.com');
});
