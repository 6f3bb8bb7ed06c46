import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/main';
import { numberedPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForCampaign } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * A running WhatsApp campaign of a business on Meta follows its number's quality rating: RED (Meta's
 * phone_number_quality_update, the rating read from the Graph API) pauses it with the reason in the
 * campaign status and the CLI, GREEN resumes it, and every row is started once.
 */

const PHONE_NUMBER_ID = '106540352242922';
const ROWS = 30;

jest.setTimeout(180_000);

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meta-quality-'));
  const demo = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'config', 'businesses.demo.json'), 'utf8'));
  // Two journeys a second, so the campaign is still running when the rating drops.
  for (const b of demo.businesses) if (b.id === 'bloom') b.sending = { whatsappPerSecond: 2, whatsappTier: 1000, whatsappYellowSlowdown: 2 };
  const file = path.join(dir, 'businesses.json');
  writeFileSync(file, JSON.stringify(demo));
  stack = await startTestStack({ prefix: 'metaq', businessesFile: file });
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cliStatus(campaignId: string): Promise<string> {
  let out = '';
  const code = await runCli(['campaign', 'status', campaignId, '--api-url', stack.apiUrl, '--api-key', stack.apiKey], { out: (t) => (out += `${t}\n`), err: () => undefined, env: {}, interactive: false });
  expect(code).toBe(0);
  return out;
}

test('quality RED pauses a running WhatsApp campaign with its reason shown; GREEN resumes it', async () => {
  const phoneNo = numberedPhones(100);
  const contacts = Array.from({ length: ROWS }, (_, i) => ({ phone: phoneNo(i) }));
  const created = await stack.request('POST', '/v1/campaigns', { businessId: 'bloom', name: 'spring offers', categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '10m' }], contacts });
  expect(created.status).toBe(202);
  const campaignId = created.body.campaignId;
  await waitForCampaign(stack, campaignId, (c) => c.started >= 3);

  expect((await stack.carrier.updateMetaNumber(PHONE_NUMBER_ID, { quality: 'RED' })).status).toBe(200);
  // A batch already past its look at the rating may still start; after the recheck interval nothing does.
  await sleep(7_000);
  const paused = (await stack.request('GET', `/v1/campaigns/${campaignId}`)).body;
  expect(paused.whatsappQuality).toMatchObject({ rating: 'RED', effect: 'paused' });
  expect(paused.started).toBeLessThan(ROWS);
  await sleep(6_000);
  const still = (await stack.request('GET', `/v1/campaigns/${campaignId}`)).body;
  expect(still.started).toBe(paused.started);
  expect(await cliStatus(campaignId)).toContain('Paused: the WhatsApp number is rated RED by Meta');

  expect((await stack.carrier.updateMetaNumber(PHONE_NUMBER_ID, { quality: 'GREEN' })).status).toBe(200);
  const done = await waitForCampaign(stack, campaignId, (c) => c.status === 'completed', 120_000);
  expect(done.started).toBe(ROWS);
  expect(done.whatsappQuality).toBeUndefined();
  const requests = stack.carrier.messages({ from: 'whatsapp:+15005550017' }).filter((m) => m.direction === 'outbound-api');
  expect(new Set(requests.map((m) => m.contact)).size).toBe(ROWS);
  expect(requests).toHaveLength(ROWS);
});
