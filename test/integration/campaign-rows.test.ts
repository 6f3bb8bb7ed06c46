import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCampaignActivities, type RowStartResult } from '../../activities/campaign';
import { insertCampaignRows, readChunk } from '../../store/campaigns';
import { contactIdOf } from '../../store/models';
import type { CampaignProgress } from '../../workflows/campaign/contract';
import { parseJourneyId } from '../../workflows/journey/contract';
import { startTestStack, type TestStack } from '../harness/stack';
import { waitForCampaign } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/** A campaign with good and bad rows: every row gets its outcome, bad rows never fail the campaign. */

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
let stack: TestStack;
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cmprows', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

async function postCsv(query: string, csv: string) {
  const res = await fetch(`${stack.apiUrl}/v1/campaigns?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('JSON campaign: each row is accepted or skipped with its reason; accepted rows get one journey each', async () => {
  const now = Date.now();
  const optedOut = '+14155550201';
  const recentlyAsked = '+14155550202';
  const alreadyIn = '+14155550203';
  const partlyIn = '+14155550204';
  await stack.store.contacts.create([
    { _id: contactIdOf('acme', optedOut), businessId: 'acme', phone: optedOut, messaging: 'opted_out', optedOutAt: new Date(now - 86_400_000) },
    { _id: contactIdOf('acme', recentlyAsked), businessId: 'acme', phone: recentlyAsked, messaging: 'allowed', lastRequestAt: new Date(now - 3 * 86_400_000) },
    { _id: contactIdOf('acme', alreadyIn), businessId: 'acme', phone: alreadyIn, messaging: 'allowed', lastRequestAt: new Date(now - 90 * 86_400_000) },
    { _id: contactIdOf('acme', partlyIn), businessId: 'acme', phone: partlyIn, messaging: 'allowed' },
  ]);
  const consent = (phone: string, category: string) => ({
    _id: `${contactIdOf('acme', phone)}:${category}`,
    businessId: 'acme',
    contactId: contactIdOf('acme', phone),
    phone,
    category,
    status: 'opted_in' as const,
    since: new Date(now - 90 * 86_400_000),
    lastEventId: `seed:${category}`,
  });
  await stack.store.consents.create([consent(alreadyIn, 'order_updates'), consent(alreadyIn, 'offers'), consent(partlyIn, 'offers')]);

  const start = await stack.request('POST', '/v1/campaigns', {
    businessId: 'acme',
    name: 'spring opt-in',
    categories: ['order_updates', 'offers'],
    plan: [{ channel: 'sms', waitFor: '20s' }],
    contacts: [
      { phone: '+14155550210', name: 'Ana' },
      { phone: '415-555-0211' },
      { phone: '+1 (415) 555-0210' },
      { phone: optedOut },
      { phone: recentlyAsked },
      { phone: alreadyIn },
      { phone: partlyIn },
      { phone: '+14155550212', email: 'not-an-address' },
      { phone: '+14155550213', timezone: 'Mars/Olympus' },
      { phone: '+442079460000' },
      { phone: '+14155550214', locale: 'pt-BR', timezone: 'America/Sao_Paulo' },
    ],
  });
  expect(start.status).toBe(202);
  const { campaignId } = start.body;
  expect(campaignId).toMatch(/^cmp_[0-9a-f]{16}$/);
  expect(start.body.rows).toMatchObject({ total: 11, accepted: 3, skipped: 8 });
  const byRow = Object.fromEntries(start.body.outcomes.map((o: any) => [o.row, o]));
  expect(byRow[1]).toMatchObject({ outcome: 'accepted', phone: '+14155550210' });
  expect(byRow[2]).toMatchObject({ outcome: 'skipped', reason: 'invalid_phone' });
  expect(byRow[2].detail).toContain('must start with + and the country code');
  expect(byRow[3]).toMatchObject({ outcome: 'skipped', reason: 'duplicate_in_file', detail: 'same phone as row 1' });
  expect(byRow[4]).toMatchObject({ outcome: 'skipped', reason: 'opted_out' });
  expect(byRow[5]).toMatchObject({ outcome: 'skipped', reason: 'frequency_cap' });
  expect(byRow[5].detail).toContain('30 days');
  expect(byRow[6]).toMatchObject({ outcome: 'skipped', reason: 'already_opted_in' });
  expect(byRow[7]).toMatchObject({ outcome: 'accepted' });
  expect(byRow[8]).toMatchObject({ outcome: 'skipped', reason: 'invalid_field', detail: 'email: must be an e-mail address' });
  expect(byRow[9]).toMatchObject({ outcome: 'skipped', reason: 'invalid_field' });
  expect(byRow[9].detail).toContain('timezone');
  expect(byRow[10]).toMatchObject({ outcome: 'skipped', reason: 'invalid_phone' });
  expect(byRow[10].detail).toContain('fixed line');
  expect(byRow[11]).toMatchObject({ outcome: 'accepted' });

  const done = await waitForCampaign(stack, campaignId, (b) => b.status === 'completed' && b.started === 3);
  expect(done.counts.pending).toBe(0);
  expect(done.counts.skipped).toEqual({ invalid_phone: 2, duplicate_in_file: 1, opted_out: 1, frequency_cap: 1, already_opted_in: 1, invalid_field: 2 });

  for (const phone of ['+14155550210', partlyIn, '+14155550214']) {
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).length > 0, 15_000);
  }
  for (const phone of [optedOut, recentlyAsked, alreadyIn, '+14155550212', '+14155550213']) {
    expect(stack.carrier.messages({ to: phone })).toHaveLength(0);
  }

  const journeys = await stack.store.journeys.find({ campaignId }).lean();
  expect(journeys.map((j) => j.contactId).sort()).toEqual([contactIdOf('acme', '+14155550210'), contactIdOf('acme', partlyIn), contactIdOf('acme', '+14155550214')].sort());
  expect(journeys.every((j) => (j.source as any)?.kind === 'campaign')).toBe(true);

  await stack.carrier.sendInbound({ from: '+14155550210', to: '+1500555006', body: 'YES' });
  await stack.carrier.sendInbound({ from: partlyIn, to: '+1500555006', body: 'no' });
  const answered = await waitForCampaign(stack, campaignId, (b) => b.counts.confirmed === 1 && b.counts.declined === 1);
  expect(answered.counts.active).toBe(1);
  expect(answered.optInRate).toBe(0.5);

  const skippedRows = await stack.request('GET', `/v1/campaigns/${campaignId}/rows?outcome=skipped`);
  expect(skippedRows.status).toBe(200);
  expect(skippedRows.body.rows.map((r: any) => r.row)).toEqual([2, 3, 4, 5, 6, 8, 9, 10]);
  const accepted = await stack.request('GET', `/v1/campaigns/${campaignId}/rows?outcome=accepted`);
  expect(accepted.body.rows.map((r: any) => [r.row, r.state])).toEqual([[1, 'started'], [7, 'started'], [11, 'started']]);
  expect(accepted.body.rows[0].journeyId).toMatch(/^acme\.c_[0-9a-f]{24}\./);
  const paged = await stack.request('GET', `/v1/campaigns/${campaignId}/rows?limit=4&after=2`);
  expect(paged.body.rows.map((r: any) => r.row)).toEqual([3, 4, 5, 6]);
  expect(paged.body.nextAfter).toBe(6);

  // Visibility is eventually consistent: ask until the three journeys (and the campaign itself) show up.
  let ids: string[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    ids = [];
    for await (const w of stack.client.workflow.list({ query: `OptinCampaign = '${campaignId}'` })) ids.push(w.workflowId);
    if (ids.length >= 4) break;
    await sleep(300);
  }
  expect(ids.filter((id) => id.startsWith('journey.')).sort()).toEqual(journeys.map((j) => j.workflowId).sort());
  expect(ids).toContain(`campaign.${campaignId}`);
});

test('CSV campaign: rows streamed and checked; a journey already running makes its row skipped, not asked twice', async () => {
  // 'paced' has no frequency cap, so the row reaches the start and meets the running journey there.
  const running = await stack.request('POST', '/v1/journeys', { businessId: 'paced', contact: { phone: '+14155550301' }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }] });
  expect(running.status).toBe(202);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: '+14155550301' }).length > 0, 10_000);

  const csv = ['Phone,Name,Timezone', '+14155550301,Running,', '+14155550302,Bo,Europe/Paris', 'nonsense,Bad,', '+14155550303,Cy,', '+14155550302,Dup,', '+14155550304,Too,many,fields'].join('\n');
  const start = await postCsv('businessId=paced&name=csv&categories=offers&plan=' + encodeURIComponent(JSON.stringify([{ channel: 'sms', waitFor: '20s' }])), csv);
  expect(start.status).toBe(202);
  expect(start.body.rows).toMatchObject({ total: 6, accepted: 3, skipped: 3 });
  const reasons = start.body.outcomes.map((o: any) => o.reason ?? o.outcome);
  expect(reasons).toEqual(['accepted', 'accepted', 'invalid_phone', 'accepted', 'duplicate_in_file', 'invalid_field']);

  const done = await waitForCampaign(stack, start.body.campaignId, (b) => b.status === 'completed');
  expect(done.started).toBe(2);
  expect(done.counts.skipped.journey_already_running).toBe(1);
  const rows = await stack.request('GET', `/v1/campaigns/${start.body.campaignId}/rows?reason=journey_already_running`);
  expect(rows.body.rows).toEqual([expect.objectContaining({ row: 1, outcome: 'skipped', reason: 'journey_already_running' })]);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: '+14155550303' }).length > 0, 10_000);
  expect(stack.carrier.messages({ to: '+14155550301' })).toHaveLength(1);
});

test('a CSV whose header names an unknown column is refused with 400 naming it', async () => {
  const r = await postCsv('businessId=acme&name=bad&categories=offers', 'phone,mobile\n+14155550401,x\n');
  expect(r.status).toBe(400);
  expect(r.body.message).toContain('"mobile"');
  const noPhone = await postCsv('businessId=acme&name=bad&categories=offers', 'name,email\nAna,a@example.com\n');
  expect(noPhone.status).toBe(400);
  expect(noPhone.body.message).toContain('"phone" column is required');
  const unknownCategory = await postCsv('businessId=acme&name=bad&categories=offers,lottery', 'phone\n+14155550401\n');
  expect(unknownCategory.status).toBe(400);
  expect(unknownCategory.body.message).toContain('categories.1');
});

test('a retried batch of starts (same campaign rows) starts no second journey, even after the first ended', async () => {
  const activities = createCampaignActivities({ store: stack.store, businesses: stack.businesses, client: stack.client, taskQueue: stack.taskQueue });
  const list = ['+14155550501', '+14155550502'];
  const batch = {
    campaignId: 'cmp_00000000000e7e01',
    businessId: 'paced',
    categories: ['offers'],
    plan: [{ channel: 'sms' as const, waitForMs: 30_000, remindAfterMs: [] }],
    rows: list.map((phone, index) => ({ index, contactId: contactIdOf('paced', phone), contact: { phone } })),
  };
  const attempt = (): Promise<RowStartResult[]> => new MockActivityEnvironment().run(activities.startCampaignJourneys, batch);

  const first = await attempt();
  expect(first.map((r) => r.journeyId)).toEqual([expect.stringMatching(/^paced\.c_/), expect.stringMatching(/^paced\.c_/)]);
  const retried = await attempt();
  expect(retried.map((r) => r.journeyId)).toEqual(first.map((r) => r.journeyId));
  await stack.carrier.waitFor(() => list.every((p) => stack.carrier.messages({ to: p }).length === 1), 15_000);

  for (const r of first) {
    expect((await stack.request('POST', `/v1/journeys/${r.journeyId}/cancel`, { reason: 'test' })).status).toBe(200);
    const ids = parseJourneyId(r.journeyId!)!;
    await stack.client.workflow.getHandle(ids.workflowId, ids.runId).result();
  }
  const afterEnd = await attempt();
  expect(afterEnd.map((r) => r.journeyId)).toEqual(first.map((r) => r.journeyId));

  const other: RowStartResult[] = await new MockActivityEnvironment().run(activities.startCampaignJourneys, { ...batch, campaignId: 'cmp_00000000000e7e02' });
  expect(other.every((r, i) => r.journeyId && r.journeyId !== first[i].journeyId)).toBe(true);
  await stack.carrier.waitFor(() => list.every((p) => stack.carrier.messages({ to: p }).length === 2), 15_000);
});

test('a run doing its lost attempt\'s steps again reads back the rows that attempt recorded; no other run or pass does', async () => {
  const activities = createCampaignActivities({ store: stack.store, businesses: stack.businesses, client: stack.client, taskQueue: stack.taskQueue });
  const campaignId = 'cmp_00000000000e7e03';
  const list = Array.from({ length: 5 }, (_, i) => `+1415555060${i}`);
  await insertCampaignRows(stack.store, campaignId, list.map((phone, i) => ({ i, input: phone, phone, contactId: contactIdOf('paced', phone), zones: ['UTC'], outcome: 'accepted', state: 'pending' })));
  const quietHours = { start: '00:00', end: '00:00' };
  const read = async (by: string) => (await activities.nextCampaignRows({ campaignId, from: 0, to: 5, limit: 5, quietHours, by })).rows.map((r) => r.index);
  expect(await read('run-a/1')).toEqual([0, 1, 2, 3, 4]);

  const progress = { campaignId, status: 'running', started: 2, skippedAtStart: {}, pass: { number: 1, from: 0, to: 5, next: 3 }, runs: 1 } as CampaignProgress;
  const results: RowStartResult[] = [
    { index: 0, journeyId: 'paced.c_x:r0', at: Date.now() },
    { index: 1, journeyId: 'paced.c_y:r1', at: Date.now() },
    { index: 2, reason: 'journey_already_running', at: Date.now() },
  ];
  await activities.recordCampaignStarts({ campaignId, results, progress, by: 'run-a/1' });
  expect(await read('run-a/1')).toEqual([0, 1, 2, 3, 4]);
  expect(await read('run-b/1')).toEqual([3, 4]);
  expect(await read('run-a/2')).toEqual([3, 4]);
  const chunk = await readChunk(stack.store, campaignId, 0);
  expect(chunk!.rows.map((r) => r.state)).toEqual(['started', 'started', 'skipped', 'pending', 'pending']);
});
