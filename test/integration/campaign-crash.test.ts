import path from 'node:path';
import { startNodeProcess, waitUntil, type ManagedProcess } from '../../dev/processes';
import { campaignStore, insertCampaignRows, readChunk, type CampaignRow } from '../../store/campaigns';
import { contactIdOf } from '../../store/models';
import { CAMPAIGN_WORKFLOW_TYPE, campaignWorkflowId, type CampaignProgress, type CampaignWorkflowInput } from '../../workflows/campaign/contract';
import { startTestStack, TEST_API_KEY, type TestStack } from '../harness/stack';
import { productionWorkerEnv } from '../harness/stack-env';

/**
 * The production worker (workers/main.ts, its own process) is killed with SIGKILL in the middle of
 * a campaign that continues as new every five starts. A new worker finishes the campaign: every
 * accepted row has exactly one journey, and every contact gets exactly one request.
 */

const repoRoot = path.resolve(__dirname, '..', '..');
const fastBusinesses = path.join(repoRoot, 'test', 'fixtures', 'businesses.fast.json');
const ROWS = 30;

let stack: TestStack;
let worker: ManagedProcess | undefined;
jest.setTimeout(180_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmpcrash', businessesFile: fastBusinesses, worker: false });
});
afterAll(async () => {
  await worker?.stop(1_000);
  await stack?.close();
});

/** A campaign written straight to the store, so the test can choose how often the workflow continues as new. */
async function seedCampaign(campaignId: string, list: string[]): Promise<void> {
  const rows: CampaignRow[] = list.map((phone, i) => ({ i, input: phone, phone, contactId: contactIdOf('paced', phone), zones: ['UTC'], outcome: 'accepted', state: 'pending' }));
  await campaignStore(stack.store).campaigns.create({
    _id: campaignId,
    businessId: 'paced',
    name: 'crash',
    categories: ['offers'],
    plan: [{ channel: 'sms', waitForMs: 60_000, remindAfterMs: [] }],
    status: 'running',
    rowCount: rows.length,
    chunkCount: Math.ceil(rows.length / 100),
    accepted: rows.length,
    skippedAtUpload: {},
    progress: { started: 0, skippedAtStart: {} },
  });
  await insertCampaignRows(stack.store, campaignId, rows);
}

test('a worker killed mid-campaign: every accepted row gets exactly one journey', async () => {
  worker = startNodeProcess({
    name: 'campaign-worker',
    entry: path.join(repoRoot, 'workers', 'main.ts'),
    cwd: repoRoot,
    env: productionWorkerEnv(stack, fastBusinesses),
  });
  const child = worker;
  await waitUntil(() => child.tail(50).some((l) => l.includes('worker started')), { timeoutMs: 60_000, what: 'the worker process to start', process: child });

  const list = Array.from({ length: ROWS }, (_, i) => `+1415555${String(7000 + i)}`);
  const campaignId = 'cmp_00000000c0a5e001';
  await seedCampaign(campaignId, list);
  const input: CampaignWorkflowInput = { campaignId, maxStartsPerRun: 5 };
  const handle = await stack.client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { workflowId: campaignWorkflowId(campaignId), taskQueue: stack.taskQueue, args: [input] });

  const requests = () => list.flatMap((phone) => stack.carrier.messages({ to: phone }));
  await stack.carrier.waitFor(() => requests().length >= 10, 30_000);
  process.kill(-child.child.pid!, 'SIGKILL');
  expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });
  const sentBeforeKill = requests().length;
  expect(sentBeforeKill).toBeLessThan(ROWS);

  // No worker runs now: the status page answers with what the workflow recorded, not waiting for one
  // (a query with no worker waits about 30 s for one; 10 s is a bound on waiting, not a speed).
  const status = await fetch(`${stack.apiUrl}/v1/campaigns/${campaignId}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` }, signal: AbortSignal.timeout(10_000) });
  expect(status.status).toBe(200);
  const body = (await status.json()) as { status: string; started: number; progressAsOf?: string };
  expect(body.status).toBe('running');
  const stored = (await campaignStore(stack.store).campaigns.findById(campaignId).lean())!;
  expect(body.started).toBe(stored.progress.started);
  expect(body.progressAsOf).toBe(new Date(stored.updatedAt!).toISOString());

  await stack.startWorker();
  const result = (await handle.result()) as CampaignProgress;
  // The reasons are in the comparison, so a short count says which rows went where.
  expect({ status: result.status, started: result.started, skippedAtStart: result.skippedAtStart }).toEqual({ status: 'completed', started: ROWS, skippedAtStart: {} });
  expect(result.runs).toBeGreaterThanOrEqual(ROWS / 5);

  const chunk = await readChunk(stack.store, campaignId, 0);
  expect(chunk!.rows.map((r) => r.state)).toEqual(list.map(() => 'started'));

  // Each journey records itself when its first activity runs; the new worker runs the rest.
  await waitUntil(async () => (await stack.store.journeys.countDocuments({ campaignId })) >= ROWS, { timeoutMs: 30_000, what: 'every journey to be recorded' });
  const journeys = await stack.store.journeys.find({ campaignId }).lean();
  const perContact = new Map<string, number>();
  for (const j of journeys) perContact.set(j.contactId, (perContact.get(j.contactId) ?? 0) + 1);
  expect(perContact.size).toBe(ROWS);
  expect([...perContact.values()].every((n) => n === 1)).toBe(true);
  expect(new Set(chunk!.rows.map((r) => r.journeyId)).size).toBe(ROWS);
  expect(journeys.map((j) => j._id).sort()).toEqual(chunk!.rows.map((r) => r.journeyId).sort());

  // A send the killed worker had claimed but not finished is settled by its retry (after the 30 s
  // start-to-close timeout): found at the carrier, or sent again because the carrier has none.
  const journeyIds = journeys.map((j) => j._id);
  await waitUntil(async () => (await stack.store.outbox.countDocuments({ journeyId: { $in: journeyIds }, status: 'sent' })) >= ROWS, { timeoutMs: 75_000, what: 'every request to be sent' });
  for (const phone of list) expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
  const settled = await stack.store.outbox.find({ journeyId: { $in: journeyIds }, resolution: { $exists: true } }).lean();
  expect(settled.map((r) => r.resolution?.outcome).filter((o) => o !== 'found' && o !== 'resent')).toEqual([]);
});
