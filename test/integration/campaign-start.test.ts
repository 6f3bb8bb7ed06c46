import path from 'node:path';
import { buildApp } from '../../api/app';
import { waitUntil } from '../../dev/processes';
import { campaignStore, insertCampaignRows, readChunk, type CampaignRow } from '../../store/campaigns';
import { contactIdOf } from '../../store/models';
import { campaignWorkflowId, type CampaignProgress } from '../../workflows/campaign/contract';
import { startCutOffApi } from '../harness/cut-off-api';
import { startTestStack, type TestStack } from '../harness/stack';
import { workflowExists } from '../harness/stack-queries';
import { apiDepsWith } from '../harness/stack-env';

/**
 * A campaign accepted while Temporal cannot take its workflow is never lost: the POST answers 202
 * `starting` with every row stored, and the next GET, or the API's sweep at start, starts it.
 */

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
let stack: TestStack;
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmpstart', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

test('Temporal unreachable at POST: 202 starting with the rows stored; the next GET starts the campaign', async () => {
  // The SDK's own retries are off, so the API's three attempts fail at once instead of after seconds each.
  const unreachable = await startCutOffApi(stack);
  const list = ['+14155553101', '+14155553102', '+14155553103'];
  try {
    const posted = await fetch(`${unreachable.url}/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ businessId: 'paced', name: 'temporal down', categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }], contacts: list.map((phone) => ({ phone })) }),
    });
    expect(posted.status).toBe(202);
    const body = (await posted.json()) as any;
    expect(body).toMatchObject({ status: 'starting', rows: { total: 3, accepted: 3 } });
    const { campaignId } = body;

    const doc = await campaignStore(stack.store).campaigns.findById(campaignId).lean();
    expect(doc).toMatchObject({ status: 'starting', accepted: 3 });
    expect((await readChunk(stack.store, campaignId, 0))!.rows.map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
    expect(await workflowExists(stack, campaignWorkflowId(campaignId))).toBe(false);
    expect(stack.carrier.messages({ to: list[0] })).toHaveLength(0);

    const seen = await stack.request('GET', `/v1/campaigns/${campaignId}`);
    expect(seen.status).toBe(200);
    expect(seen.body.status).not.toBe('starting');
    expect(await workflowExists(stack, campaignWorkflowId(campaignId))).toBe(true);

    const result = (await stack.client.workflow.getHandle(campaignWorkflowId(campaignId)).result()) as CampaignProgress;
    expect(result).toMatchObject({ status: 'completed', started: 3 });
    await stack.carrier.waitFor(() => list.every((phone) => stack.carrier.messages({ to: phone }).length === 1), 15_000);
    // Asking again changes nothing: the start is idempotent.
    expect((await stack.request('GET', `/v1/campaigns/${campaignId}`)).body).toMatchObject({ status: 'completed', started: 3 });
  } finally {
    await unreachable.close();
  }
});

test('a campaign left starting (the API died after storing it) is started by the next API at start-up', async () => {
  const campaignId = 'cmp_00000000057a2701';
  const list = ['+14155553201', '+14155553202'];
  const rows: CampaignRow[] = list.map((phone, i) => ({ i, input: phone, phone, contactId: contactIdOf('paced', phone), zones: ['UTC'], outcome: 'accepted', state: 'pending' }));
  await insertCampaignRows(stack.store, campaignId, rows);
  await campaignStore(stack.store).campaigns.create({
    _id: campaignId,
    businessId: 'paced',
    name: 'left starting',
    categories: ['offers'],
    plan: [{ channel: 'sms', waitForMs: 30_000, remindAfterMs: [] }],
    status: 'starting',
    rowCount: rows.length,
    chunkCount: 1,
    accepted: rows.length,
    skippedAtUpload: {},
    progress: { started: 0, skippedAtStart: {} },
  });
  expect(await workflowExists(stack, campaignWorkflowId(campaignId))).toBe(false);

  const restarted = await buildApp(apiDepsWith(stack, stack.client));
  try {
    await restarted.ready();
    await waitUntil(() => workflowExists(stack, campaignWorkflowId(campaignId)), { timeoutMs: 15_000, what: 'the sweep to start the campaign workflow' });
    const result = (await stack.client.workflow.getHandle(campaignWorkflowId(campaignId)).result()) as CampaignProgress;
    expect(result).toMatchObject({ status: 'completed', started: 2 });
    await stack.carrier.waitFor(() => list.every((phone) => stack.carrier.messages({ to: phone }).length === 1), 15_000);
    expect((await campaignStore(stack.store).campaigns.findById(campaignId).lean())!.status).toBe('completed');
  } finally {
    await restarted.close();
  }
});
