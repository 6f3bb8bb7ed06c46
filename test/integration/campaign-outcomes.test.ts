import { campaignOutcomeCounts, tallyCampaignOutcome } from '../../store/campaign-outcomes';
import { campaignStore, journeyCountsOf } from '../../store/campaigns';
import { closeJourneyForOptOut, recordJourneyEnd, recordJourneyStart } from '../../store/journeys';
import { connectStore, type Store } from '../../store/models';
import type { JourneyState, JourneyStatus } from '../../workflows/journey/contract';
import { testMongoUri, uniqueName } from '../harness/servers';

/**
 * A campaign's status page counts its journeys' outcomes from the campaign's own tally, never from
 * the journeys collection; these pin that the tally ends as the journeys' records do, whatever order
 * the steps that write them run in and however often they run again.
 */

jest.setTimeout(60_000);

let store: Store;
beforeAll(async () => {
  store = await connectStore(testMongoUri(uniqueName('db')));
});
afterAll(async () => {
  await store?.connection.close();
});

const ROWS = 25;

async function campaign(byRow: boolean): Promise<string> {
  const _id = uniqueName('cmp');
  await campaignStore(store).campaigns.create({ _id, businessId: 'acme', name: 'tally', categories: ['offers'], plan: [], status: 'running', rowCount: ROWS, chunkCount: 1, accepted: ROWS, ...(byRow ? { outcomesByRow: true } : {}), skippedAtUpload: {}, progress: { started: 0, skippedAtStart: {} } });
  return _id;
}

/** The journey of row `n`: its id ends with the row, so the tests can tell which row an entry is. */
async function journey(campaignId: string, n: number): Promise<string> {
  const journeyId = `${campaignId}.contact${n}.run${n}`;
  await recordJourneyStart(store, { _id: journeyId, workflowId: `journey.${journeyId}`, runId: `run${n}`, businessId: 'acme', contactId: `contact${n}`, campaignId, campaignRow: n, categories: ['offers'], plan: [], startedAt: new Date(Date.now() - 60_000) });
  return journeyId;
}

const rowOf = (journeyId: string) => Number(journeyId.split('.run')[1]);
const stateOf = (journeyId: string, campaignId: string, status: JourneyStatus): JourneyState => ({ journeyId, businessId: 'acme', contactId: 'c', campaignId, campaignRow: rowOf(journeyId), categories: ['offers'], status, stepIndex: 0, channel: 'sms', attempts: 1, events: [] });
const countsOf = (campaignId: string, byRow = true) => campaignOutcomeCounts(store, { _id: campaignId, rowCount: ROWS, outcomesByRow: byRow });

/** The final outcomes as the journeys collection has them (what the status page counted before). */
async function fromJourneys(campaignId: string) {
  const { active, ...finals } = await journeyCountsOf(store, campaignId);
  return { active: 0, ...finals, stillActiveRecords: active };
}

test('the tally ends as the records do: ends, an opt-out then the end, a step run again, a stale write', async () => {
  const campaignId = await campaign(true);
  const [confirmed, closedThenDeclined, rerun, optedOut, open] = await Promise.all([1, 2, 3, 4, 5].map((n) => journey(campaignId, n)));

  expect(await recordJourneyEnd(store, stateOf(confirmed, campaignId, 'confirmed'))).toBe(true);
  expect(await recordJourneyEnd(store, stateOf(confirmed, campaignId, 'confirmed'))).toBe(false);

  // An opt-out closes the record, then the journey ends with what it had decided before.
  expect(await closeJourneyForOptOut(store, { contactId: 'contact2', optOutId: 'optout.1', receivedAt: new Date().toISOString() }, Promise.resolve({ currentJourneyId: closedThenDeclined }))).toBe(true);
  expect(await countsOf(campaignId)).toMatchObject({ confirmed: 1, opted_out: 1 });
  expect(await recordJourneyEnd(store, stateOf(closedThenDeclined, campaignId, 'declined'))).toBe(true);
  // The opt-out's step again, late: the record's later step stands.
  await tallyCampaignOutcome(store, { campaignId, row: rowOf(closedThenDeclined), step: 1, status: 'opted_out' });

  // The record was written, then the process died before the tally: the step run again counts it.
  await store.journeys.updateOne({ _id: rerun, status: 'active' }, { $set: { status: 'expired', state: stateOf(rerun, campaignId, 'expired'), endedAt: new Date() } });
  expect(await recordJourneyEnd(store, stateOf(rerun, campaignId, 'expired'))).toBe(false);

  expect(await closeJourneyForOptOut(store, { contactId: 'contact4', optOutId: 'optout.2', receivedAt: new Date().toISOString() }, Promise.resolve({ currentJourneyId: optedOut }))).toBe(true);
  expect(await recordJourneyEnd(store, stateOf(optedOut, campaignId, 'opted_out'))).toBe(true);

  const counts = await countsOf(campaignId);
  expect(counts).toEqual({ active: 0, confirmed: 1, declined: 1, expired: 1, opted_out: 1, cancelled: 0 });
  const records = await fromJourneys(campaignId);
  expect(records.stillActiveRecords).toBe(1);
  expect(counts).toEqual({ active: 0, confirmed: records.confirmed, declined: records.declined, expired: records.expired, opted_out: records.opted_out, cancelled: records.cancelled });
  expect((await store.journeys.findById(open).lean())?.status).toBe('active');
});

test('journeys ending at once, their steps run twice, are each counted once', async () => {
  const campaignId = await campaign(true);
  const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => journey(campaignId, n)));
  await Promise.all(ids.map((id, n) => recordJourneyEnd(store, stateOf(id, campaignId, n % 2 ? 'confirmed' : 'cancelled'))));
  await Promise.all(ids.map((id, n) => tallyCampaignOutcome(store, { campaignId, row: n, step: 1, status: n % 2 ? 'confirmed' : 'cancelled' })));
  expect(await countsOf(campaignId)).toEqual({ active: 0, confirmed: 10, declined: 0, expired: 0, opted_out: 0, cancelled: 10 });
});

test('a campaign created before the tally is counted from the journeys, and its journeys write no tally', async () => {
  const campaignId = await campaign(false);
  const [a, b] = await Promise.all([1, 2].map((n) => journey(campaignId, n)));
  // A journey started before rows were counted: its state names no row.
  await recordJourneyEnd(store, { ...stateOf(a, campaignId, 'confirmed'), campaignRow: undefined });
  expect(await countsOf(campaignId, false)).toEqual({ active: 1, confirmed: 1, declined: 0, expired: 0, opted_out: 0, cancelled: 0 });
  expect(await store.connection.collection('campaign_outcomes').countDocuments({ _id: { $in: [`${campaignId}:1`] } as never })).toBe(0);
  expect((await store.journeys.findById(b).lean())?.status).toBe('active');
});
