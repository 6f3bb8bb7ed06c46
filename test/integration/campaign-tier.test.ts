import path from 'node:path';
import { waitUntil } from '../../dev/processes';
import { campaignWorkflowId, type CampaignProgress } from '../../workflows/campaign/contract';
import { WHATSAPP_TIER_WORKFLOW_TYPE, whatsappTierUsageQuery, whatsappTierWorkflowId, type WhatsappTierInput } from '../../workflows/campaign/tier-contract';
import { phoneBlock } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';

/**
 * The WhatsApp tier is the business number's, not a campaign's: two campaigns of one business running
 * at once start, together, no more new contacts per window than the tier. 'tiered' has a tier of 6;
 * the test starts the business's tier workflow itself with an 8-second window instead of 24 hours.
 */

const tierBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.tier.json');
const TIER = 6;
const WINDOW_MS = 8_000;
let stack: TestStack;
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmptier', businessesFile: tierBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

async function startCampaign(name: string, contacts: string[]): Promise<string> {
  const r = await stack.request('POST', '/v1/campaigns', {
    businessId: 'tiered',
    name,
    categories: ['offers'],
    plan: [{ channel: 'whatsapp', waitFor: '30s' }],
    contacts: contacts.map((phone) => ({ phone })),
  });
  expect(r.status).toBe(202);
  expect(r.body.rows.accepted).toBe(contacts.length);
  return r.body.campaignId as string;
}

test('two campaigns of one business share its WhatsApp tier; held rows start when the window frees up', async () => {
  const input: WhatsappTierInput = { businessId: 'tiered', windowMs: WINDOW_MS };
  const tier = await stack.client.workflow.start(WHATSAPP_TIER_WORKFLOW_TYPE, { workflowId: whatsappTierWorkflowId('tiered'), taskQueue: stack.taskQueue, args: [input] });

  const first = phoneBlock(71, 5);
  const second = phoneBlock(72, 5);
  const everyone = [...first, ...second];
  const requests = () => everyone.flatMap((phone) => stack.carrier.messages({ to: `whatsapp:${phone}` }));
  const [a, b] = await Promise.all([startCampaign('first', first), startCampaign('second', second)]);

  await stack.carrier.waitFor(() => requests().length >= TIER, 20_000);
  // Each campaign alone is under the tier (5 < 6); together they would be 10.
  await sleep(2_500);
  expect(requests()).toHaveLength(TIER);
  expect(await tier.query(whatsappTierUsageQuery)).toMatchObject({ used: TIER, limit: TIER });
  const views = await Promise.all([a, b].map(async (id) => (await stack.request('GET', `/v1/campaigns/${id}`)).body));
  expect(views[0].started + views[1].started).toBe(TIER);
  const waiting = views.filter((v) => v.counts.pending > 0);
  expect(waiting.length).toBeGreaterThan(0);
  for (const v of waiting) {
    expect(v.status).toBe('running');
    expect(Date.parse(v.whatsappTierWaitUntil)).toBeGreaterThan(Date.now());
  }

  const results = (await Promise.all([a, b].map((id) => stack.client.workflow.getHandle(campaignWorkflowId(id)).result()))) as CampaignProgress[];
  expect(results.map((r) => [r.status, r.started])).toEqual([['completed', 5], ['completed', 5]]);
  await stack.carrier.waitFor(() => requests().length === everyone.length, 15_000);
  for (const phone of everyone) expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(1);

  const times = requests().map((m) => Date.parse(m.createdAt)).sort((x, y) => x - y);
  // The seventh new contact waited for the first grants to leave the window.
  expect(times[TIER] - times[0]).toBeGreaterThanOrEqual(WINDOW_MS - 1_000);
  expect(times[TIER - 1] - times[0]).toBeLessThan(WINDOW_MS - 2_000);
  expect(await tier.query(whatsappTierUsageQuery)).toMatchObject({ used: everyone.length - TIER });
});

test('a row skipped at start (journey already running) gives its grant back', async () => {
  const tier = stack.client.workflow.getHandle(whatsappTierWorkflowId('tiered'));
  // Let the first test's grants leave the window so the count below is this campaign's alone.
  await waitUntil(async () => (await tier.query(whatsappTierUsageQuery)).used === 0, { timeoutMs: 15_000, what: 'the earlier grants to expire' });
  const [busy, ...fresh] = phoneBlock(73, 3);
  const running = await stack.request('POST', '/v1/journeys', { businessId: 'tiered', contact: { phone: busy }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(running.status).toBe(202);

  const campaignId = await startCampaign('with a busy contact', [busy, ...fresh]);
  const result = (await stack.client.workflow.getHandle(campaignWorkflowId(campaignId)).result()) as CampaignProgress;
  expect(result).toMatchObject({ status: 'completed', started: 2, skippedAtStart: { journey_already_running: 1 } });
  expect(await tier.query(whatsappTierUsageQuery)).toMatchObject({ windowMs: WINDOW_MS, used: 2 });
});
