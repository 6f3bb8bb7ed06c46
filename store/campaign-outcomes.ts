import { Schema, type Connection, type Model } from 'mongoose';
import { noJourneyCounts, type JourneyCounts } from '../domain/campaign';
import { journeyCountsOf, type CampaignDoc } from './campaigns';
import { isDuplicateKey } from './errors';
import type { Store } from './models';

/**
 * A campaign's journey outcomes, kept by row so that its status page never counts the journeys
 * collection: that count was an aggregation over every journey (a scan on FerretDB, whose SQLite
 * backend narrows only by `_id`, and on MongoDB without an index on the campaign), about 1 s of
 * FerretDB's CPU per read at 10,000 journeys, and `optinflow campaign start --wait` reads it every 2 s.
 *
 * One small document per row's journey, `${campaignId}:${row}`, written when the journey's record
 * ends: its status, prefixed by the step that wrote it. A record takes at most two steps (ended; or
 * closed by an opt-out, then given the journey's state: store/journeys.ts), so an entry is written only
 * over a lower step, and a retried or late write changes nothing. One document per journey, because
 * FerretDB applies an update by reading the document and writing it back: two updates of one shared
 * document at once can lose one of them. Rows with no document yet cost the status page an index
 * lookup each; entries that can no longer change are remembered by the process that read them.
 */

interface OutcomeDoc {
  _id: string;
  /** `${step}${status}` */
  s: string;
}

const outcomeSchema = new Schema({ _id: { type: String, required: true }, s: { type: String, required: true } }, { versionKey: false });

/** What a process has read of a campaign's entries that no later step can change: row → status. */
type Settled = Map<number, keyof JourneyCounts>;

interface OutcomeStore {
  outcomes: Model<OutcomeDoc>;
  settled: Map<string, Settled>;
}

const stores = new WeakMap<Connection, OutcomeStore>();
const SETTLED_CAMPAIGNS = 50;
const IDS_PER_READ = 250;

function outcomeStore(store: Store): OutcomeStore {
  const existing = stores.get(store.connection);
  if (existing) return existing;
  const created: OutcomeStore = {
    outcomes: store.connection.models.CampaignOutcome ?? store.connection.model<OutcomeDoc>('CampaignOutcome', outcomeSchema, 'campaign_outcomes'),
    settled: new Map(),
  };
  stores.set(store.connection, created);
  return created;
}

const outcomeIdOf = (campaignId: string, row: number) => `${campaignId}:${row}`;

/** The row's journey record as written at `step` (1 or 2) with `status`; a no-op over an entry of the same or a later step. */
export async function tallyCampaignOutcome(store: Store, o: { campaignId: string; row: number; step: number; status: string }): Promise<void> {
  if (o.status === 'active') return;
  const { outcomes } = outcomeStore(store);
  const filter = { _id: outcomeIdOf(o.campaignId, o.row), s: { $not: { $gte: String(o.step) } } };
  const update = { $set: { s: `${o.step}${o.status}` } };
  try {
    await outcomes.updateOne(filter, update, { upsert: true });
  } catch (err) {
    // The entry is there, as new or newer (nothing to do), or another write created it at the same
    // moment (try once more on the entry now there).
    if (!isDuplicateKey(err)) throw err;
    await outcomes.updateOne(filter, update);
  }
}

function settledOf(o: OutcomeStore, campaignId: string): Settled {
  let s = o.settled.get(campaignId);
  if (!s) {
    if (o.settled.size >= SETTLED_CAMPAIGNS) o.settled.delete(o.settled.keys().next().value!);
    s = new Map();
    o.settled.set(campaignId, s);
  }
  return s;
}

/** Outcomes of the campaign's journeys: from its rows' entries, or for a campaign created before them from the journeys. */
export async function campaignOutcomeCounts(store: Store, doc: Pick<CampaignDoc, '_id' | 'rowCount' | 'outcomesByRow'>): Promise<JourneyCounts> {
  if (!doc.outcomesByRow) return journeyCountsOf(store, doc._id);
  const o = outcomeStore(store);
  const settled = settledOf(o, doc._id);
  const counts = noJourneyCounts();
  const rows = Array.from({ length: doc.rowCount }, (_, i) => i).filter((i) => !settled.has(i));
  for (let k = 0; k < rows.length; k += IDS_PER_READ) {
    const ids = rows.slice(k, k + IDS_PER_READ).map((i) => outcomeIdOf(doc._id, i));
    for (const entry of await o.outcomes.find({ _id: { $in: ids } }).lean<OutcomeDoc[]>()) {
      const status = entry.s.slice(1) as keyof JourneyCounts;
      if (!(status in counts) || status === 'active') continue;
      // Only an opt-out's close is ever written over (by the journey's own end).
      if (entry.s.startsWith('1') && status === 'opted_out') counts[status]++;
      else settled.set(Number(entry._id.slice(doc._id.length + 1)), status);
    }
  }
  for (const status of settled.values()) counts[status]++;
  return counts;
}
