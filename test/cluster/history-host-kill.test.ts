import { numberedPhones } from '../harness/contact';
import { testClusterInfo } from '../harness/cluster';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney } from '../harness/stack-queries';
import { eventually, sleep } from '../harness/wait';
import { contactIdOf } from '../../store/models';

/**
 * On the cluster profile (two history hosts sharing the shards): kill -9 one history host while 200
 * journeys wait for their replies and a campaign is sending, then reply to every journey while its
 * shards move to the surviving host. Every journey confirms exactly once (one consent event per
 * category, one WhatsApp confirmation), every campaign row sends exactly one request, and the
 * replies are applied once.
 */

const JOURNEYS = 200;
const CAMPAIGN_ROWS = 40;
const ACME_SMS = '+15005550006';
const phoneNo = numberedPhones(1000);

let stack: TestStack;
jest.setTimeout(600_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'hostkill' });
});
afterAll(async () => {
  await stack?.close();
});

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

const outbound = (phone: string) => stack.carrier.messages({ contact: phone }).filter((m) => m.direction !== 'inbound');

test('a history host killed mid-run: every journey and campaign row finishes exactly once, every reply applied once', async () => {
  const cluster = testClusterInfo();
  if (!cluster) throw new Error('this file runs on the cluster profile only: npm run test:cluster');
  const victim = cluster.processes['history-1'];
  expect(victim.role).toBe('history');

  const journeyPhones = Array.from({ length: JOURNEYS }, (_, i) => phoneNo(i));
  await inBatches(journeyPhones, 20, (phone) => startJourney(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '10m' }] }));
  await eventually('every journey request at the carrier', async () => journeyPhones.every((p) => outbound(p).length >= 1), 180_000);

  const campaignPhones = Array.from({ length: CAMPAIGN_ROWS }, (_, i) => phoneNo(500 + i));
  const campaign = await stack.request('POST', '/v1/campaigns', {
    businessId: 'acme',
    name: 'during a host kill',
    categories: ['order_updates'],
    plan: [{ channel: 'sms', waitFor: '10m' }],
    contacts: campaignPhones.map((phone) => ({ phone })),
  });
  expect(campaign.status).toBe(202);
  await eventually('the campaign to send its first requests', async () => campaignPhones.some((p) => outbound(p).length >= 1), 60_000);

  // The whole process group: the server process and anything it started.
  process.kill(-victim.pid, 'SIGKILL');
  await sleep(200);

  await inBatches(journeyPhones, 10, (phone) => stack.carrier.sendInbound({ from: phone, to: ACME_SMS, body: 'YES' }));

  await eventually(
    'a WhatsApp confirmation for every journey',
    async () => journeyPhones.every((p) => outbound(p).some((m) => m.channel === 'whatsapp')),
    300_000,
  );
  await eventually(
    'every campaign row sent',
    async () => {
      const r = await stack.request('GET', `/v1/campaigns/${campaign.body.campaignId}`);
      return r.body.status === 'completed' && campaignPhones.every((p) => outbound(p).length >= 1);
    },
    300_000,
  );
  // Time for anything duplicated by a retried task to surface.
  await sleep(5_000);

  for (const phone of journeyPhones) {
    const sent = outbound(phone);
    expect({ phone, requests: sent.filter((m) => m.channel === 'sms').length, confirmations: sent.filter((m) => m.channel === 'whatsapp').length }).toEqual({ phone, requests: 1, confirmations: 1 });
  }
  for (const phone of campaignPhones) expect({ phone, requests: outbound(phone).length }).toEqual({ phone, requests: 1 });

  const events = await stack.store.consentEvents.find({ businessId: 'acme', contactId: { $in: journeyPhones.map((p) => contactIdOf('acme', p)) } }).lean();
  const optedIn = events.filter((e) => e.type === 'opted_in');
  expect(optedIn).toHaveLength(JOURNEYS);
  expect(new Set(optedIn.map((e) => e.contactId)).size).toBe(JOURNEYS);
  const journeys = await stack.store.journeys.find({ businessId: 'acme', contactId: { $in: journeyPhones.map((p) => contactIdOf('acme', p)) } }).lean();
  expect(journeys.map((j) => j.status).sort()).toEqual(Array(JOURNEYS).fill('confirmed'));
});
