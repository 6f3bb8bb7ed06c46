import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCampaignActivities, type RowStartResult, type StartBatchInput } from '../../activities/campaign';
import { holdCampaignStarts, HOLD_FRESH_MS, releaseCampaignStarts } from '../../store/campaign-holds';
import { contactIdOf } from '../../store/models';
import { phoneBlock } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForCampaign } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * Pacing, pause/resume and cancel, measured where it matters: at the carrier. The 'paced' business
 * sends 4 SMS a second; rates are asserted with generous tolerance (a functional limit, not a benchmark).
 */

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const RATE = 4;
let stack: TestStack;
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmpctl', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

async function startCampaign(contacts: string[], waitFor = '30s') {
  const r = await stack.request('POST', '/v1/campaigns', {
    businessId: 'paced',
    name: 'control',
    categories: ['offers'],
    plan: [{ channel: 'sms', waitFor }],
    contacts: contacts.map((phone) => ({ phone })),
  });
  expect(r.status).toBe(202);
  expect(r.body.rows.accepted).toBe(contacts.length);
  return r.body.campaignId as string;
}

async function campaign(campaignId: string) {
  const r = await stack.request('GET', `/v1/campaigns/${campaignId}`);
  expect(r.status).toBe(200);
  return r.body;
}

const requestsTo = (list: string[]) => list.flatMap((phone) => stack.carrier.messages({ to: phone }));

/** One paced batch of the campaign activity, run as the workflow runs it, for the 'paced' business. */
function startBatch(campaignId: string, list: string[], pace: StartBatchInput['pace']): Promise<RowStartResult[]> {
  const activities = createCampaignActivities({ store: stack.store, businesses: stack.businesses, client: stack.client, taskQueue: stack.taskQueue });
  return new MockActivityEnvironment().run(activities.startCampaignJourneys, {
    campaignId,
    businessId: 'paced',
    categories: ['offers'],
    plan: [{ channel: 'sms' as const, waitForMs: 30_000, remindAfterMs: [] }],
    rows: list.map((phone, index) => ({ index, contactId: contactIdOf('paced', phone), contact: { phone } })),
    pace,
  });
}

test('journeys start no faster than the business rate', async () => {
  const list = phoneBlock(60, 16);
  const campaignId = await startCampaign(list);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 30_000);
  const times = requestsTo(list).map((m) => Date.parse(m.createdAt)).sort((a, b) => a - b);
  // 16 at 4/s: four windows of four, so at least three seconds from the first to the last.
  expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(2_500);
  const busiestSecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
  expect(busiestSecond).toBeLessThanOrEqual(2 * RATE);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'completed');
  expect(done.started).toBe(16);
  expect(done.startedPerSecond).toBeGreaterThan(0);
  expect(done.startedPerSecond).toBeLessThanOrEqual(RATE * 1.5);
});

test('a paced batch begins each group a window after the one before, while the earlier starts run on', async () => {
  const list = phoneBlock(65, 6);
  const results = await startBatch('cmp_00000000000e7e11', list, { groups: [3, 2, 1], everyMs: 1000 });
  expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(results.every((r) => r.journeyId)).toBe(true);
  const launches = [...new Set(results.map((r) => r.launchedAt!))].sort((a, b) => a - b);
  expect(results.map((r) => launches.indexOf(r.launchedAt!))).toEqual([0, 0, 0, 1, 1, 2]);
  // Each window counts from when the group before it began, so no two groups ever share one.
  expect(launches[1] - launches[0]).toBeGreaterThanOrEqual(1000);
  expect(launches[2] - launches[1]).toBeGreaterThanOrEqual(1000);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 15_000);
  const requestedAt = (phone: string) => Date.parse(stack.carrier.messages({ to: phone })[0].createdAt);
  // At the carrier, the last group's request comes at least its two windows after the first group's began.
  expect(requestedAt(list[5]) - launches[0]).toBeGreaterThanOrEqual(2000);
});

test('a paced batch given the time its window opens holds its first group until then', async () => {
  const list = phoneBlock(66, 3);
  const startAt = Date.now() + 800;
  const results = await startBatch('cmp_00000000000e7e12', list, { groups: [2, 1], everyMs: 1000, startAt });
  expect(results.every((r) => r.journeyId)).toBe(true);
  const launches = [...new Set(results.map((r) => r.launchedAt!))].sort((a, b) => a - b);
  expect(launches).toHaveLength(2);
  expect(launches[0]).toBeGreaterThanOrEqual(startAt);
  expect(launches[1] - launches[0]).toBeGreaterThanOrEqual(1000);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 15_000);
  const firstRequest = Math.min(...requestsTo(list).map((m) => Date.parse(m.createdAt)));
  expect(firstRequest).toBeGreaterThanOrEqual(startAt);
});

test('a batch starts no group once a pause is asked for, and hands its rows back; a hold left behind is ignored', async () => {
  const list = phoneBlock(67, 3);
  await holdCampaignStarts(stack.store, 'cmp_0000000000000d1d', 'pause');
  const held = await startBatch('cmp_0000000000000d1d', list, { groups: [2, 1], everyMs: 1000, startAt: Date.now() });
  expect(held.map((r) => r.index)).toEqual([0, 1, 2]);
  expect(held.every((r) => r.heldUntil !== undefined && !r.journeyId)).toBe(true);
  await sleep(1_000);
  expect(requestsTo(list)).toHaveLength(0);

  await holdCampaignStarts(stack.store, 'cmp_0000000000000d1d', 'pause', new Date(Date.now() - HOLD_FRESH_MS - 1_000));
  const started = await startBatch('cmp_0000000000000d1d', list, { groups: [2, 1], everyMs: 1000, startAt: Date.now() });
  expect(started.every((r) => r.journeyId && r.heldUntil === undefined)).toBe(true);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 15_000);
});

test('while a pause waits for the workflow, its campaign starts nothing; every row is started once after', async () => {
  const list = phoneBlock(68, 24);
  const campaignId = await startCampaign(list);
  await stack.carrier.waitFor(() => requestsTo(list).length >= 3, 20_000);
  // The hold alone, with no update behind it: only the start activity sees it.
  await holdCampaignStarts(stack.store, campaignId, 'pause');
  await sleep(2_000);
  const whileHeld = requestsTo(list).length;
  expect(whileHeld).toBeLessThan(list.length);
  await sleep(3_000);
  expect(requestsTo(list)).toHaveLength(whileHeld);
  expect((await campaign(campaignId)).status).toBe('running');

  await releaseCampaignStarts(stack.store, campaignId);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'completed');
  expect(done.started).toBe(list.length);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 10_000);
  for (const phone of list) expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
});

test('pause stops starting journeys; resume continues where it stopped', async () => {
  // Twelve seconds of rows: a pause lands once the batch under way (three windows) has returned.
  const list = phoneBlock(61, 48);
  const campaignId = await startCampaign(list);
  await stack.carrier.waitFor(() => requestsTo(list).length >= 5, 20_000);

  const paused = await stack.request('POST', `/v1/campaigns/${campaignId}/pause`);
  expect(paused.status).toBe(200);
  expect(paused.body.status).toBe('paused');
  const startedAtPause = paused.body.started;
  expect(startedAtPause).toBeLessThan(list.length);

  await sleep(2_500);
  expect(requestsTo(list).length).toBe(startedAtPause);
  expect((await campaign(campaignId)).started).toBe(startedAtPause);
  expect((await stack.request('POST', `/v1/campaigns/${campaignId}/pause`)).status).toBe(200);

  const resumed = await stack.request('POST', `/v1/campaigns/${campaignId}/resume`);
  expect(resumed.status).toBe(200);
  expect(resumed.body.status).toBe('running');
  // Answered as it resumed: not held until the batches after it (which keep the task open) had run.
  expect(resumed.body.started).toBe(startedAtPause);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'completed');
  expect(done.started).toBe(list.length);
  // The task the batches chain in is renewed at 80 % of this, and a pause arrives with a renewal.
  const { raw } = await stack.client.workflow.getHandle(`campaign.${campaignId}`).describe();
  expect(Number(raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds)).toBe(4);
  await stack.carrier.waitFor(() => requestsTo(list).length === list.length, 10_000);
  for (const phone of list) expect(stack.carrier.messages({ to: phone })).toHaveLength(1);
});

test('cancel with journeys=cancel: no new journeys, running ones end as cancelled, the rest is skipped', async () => {
  // Twelve seconds of rows, as for pause: a cancel lands once the batch under way has returned.
  const list = phoneBlock(62, 48);
  const campaignId = await startCampaign(list, '60s');
  await stack.carrier.waitFor(() => requestsTo(list).length >= 4, 20_000);

  const cancel = await stack.request('POST', `/v1/campaigns/${campaignId}/cancel`, { journeys: 'cancel', reason: 'wrong list' });
  expect(cancel.status).toBe(202);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'cancelled' && b.counts.cancelled === b.started && b.counts.active === 0);
  expect(done.started).toBeLessThan(list.length);
  expect(done.counts.skipped.campaign_cancelled).toBe(list.length - done.started);
  expect(done.counts.pending).toBe(0);
  expect(done.finished).toBe(true);
  await sleep(1_000);
  expect(requestsTo(list).length).toBe(done.started);

  const again = await stack.request('POST', `/v1/campaigns/${campaignId}/resume`);
  expect(again.status).toBe(409);
  const rows = await stack.request('GET', `/v1/campaigns/${campaignId}/rows?reason=campaign_cancelled&limit=1000`);
  expect(rows.body.rows).toHaveLength(list.length - done.started);
});

test('cancel with journeys=finish: no new journeys, running ones carry on', async () => {
  // Twelve seconds of rows, as for pause: a cancel lands once the batch under way has returned.
  const list = phoneBlock(63, 48);
  const campaignId = await startCampaign(list, '60s');
  await stack.carrier.waitFor(() => requestsTo(list).length >= 4, 20_000);
  const cancel = await stack.request('POST', `/v1/campaigns/${campaignId}/cancel`, { journeys: 'finish' });
  expect(cancel.status).toBe(202);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'cancelled');
  expect(done.counts.cancelled).toBe(0);
  expect(done.counts.active).toBe(done.started);
  expect(done.finished).toBe(false);

  const first = list.find((p) => stack.carrier.messages({ to: p }).length === 1)!;
  await stack.carrier.sendInbound({ from: first, to: '+1500555106', body: 'YES' });
  await waitForCampaign(stack, campaignId, (b) => b.counts.confirmed === 1);
});

test('unknown campaign is 404; a malformed id is 400', async () => {
  expect((await stack.request('GET', '/v1/campaigns/cmp_0000000000000000')).status).toBe(404);
  const bad = await stack.request('GET', '/v1/campaigns/nope');
  expect(bad.status).toBe(400);
  expect(bad.body.message).toContain('campaignId');
});

/** An Etc/GMT zone where the local hour is now `hour` (Etc/GMT-3 is UTC+3). */
function zoneWhereItIs(hour: number): string {
  let offset = (hour - new Date().getUTCHours() + 24) % 24;
  if (offset > 12) offset -= 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

test('quiet hours: a contact in their night waits, one in their day is asked at once', async () => {
  const [sleeper, waker] = ['+14155556401', '+14155556402'];
  const r = await stack.request('POST', '/v1/campaigns', {
    businessId: 'nightowl',
    name: 'quiet',
    categories: ['offers'],
    plan: [{ channel: 'sms', waitFor: '30s' }],
    contacts: [
      { phone: sleeper, timezone: zoneWhereItIs(2) },
      { phone: waker, timezone: zoneWhereItIs(12) },
    ],
  });
  expect(r.status).toBe(202);
  const { campaignId } = r.body;
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: waker }).length === 1, 15_000);
  const waiting = await waitForCampaign(stack, campaignId, (b) => b.started === 1 && b.deferredByQuietHours === 1);
  expect(waiting.status).toBe('running');
  expect(waiting.counts.pending).toBe(1);
  await sleep(1_000);
  expect(stack.carrier.messages({ to: sleeper })).toHaveLength(0);

  expect((await stack.request('POST', `/v1/campaigns/${campaignId}/cancel`, {})).status).toBe(202);
  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'cancelled');
  expect(done.counts.skipped).toEqual({ campaign_cancelled: 1 });
});
