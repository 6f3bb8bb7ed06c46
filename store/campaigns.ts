import type { LedgerActor } from '../domain/access';
import { Schema, type Connection, type Model } from 'mongoose';
import type { CampaignStatus, SkipReason } from '../domain/campaign';
import { noJourneyCounts, type JourneyCounts } from '../domain/campaign';
import type { Store } from './models';

/**
 * Campaigns and their rows. Rows are kept in chunks of ROWS_PER_CHUNK, one document per chunk with
 * the derived key `${campaignId}:${chunk}`: FerretDB 1.24 (SQLite) answers only `_id` lookups without
 * reading the whole collection (measured: a filtered find on 100,000 row documents took 3–5 s, an
 * `_id` lookup of a chunk tens of ms), so the workflow pages through rows by index with `_id` reads
 * only. The campaign document carries the counters, so no count ever scans rows either.
 */

export const ROWS_PER_CHUNK = 100;

export function chunkIdOf(campaignId: string, chunk: number): string {
  return `${campaignId}:${chunk}`;
}

export type RowState = 'pending' | 'started' | 'skipped';

/** One row as the campaign owner sent it and what became of it. `i` is the 0-based index in the file. */
export interface CampaignRow {
  i: number;
  /** The phone as given (kept for invalid rows so the owner can find them). */
  input: string;
  phone?: string;
  contactId?: string;
  email?: string;
  locale?: string;
  timezone?: string;
  name?: string;
  /** The zones quiet hours are checked in (row's zone, else the phone's country's, else the business default). */
  zones?: string[];
  outcome: 'accepted' | 'skipped';
  state: RowState;
  reason?: SkipReason;
  detail?: string;
  journeyId?: string;
  startedAt?: Date;
  deferredUntil?: Date;
  /**
   * The campaign run and pass that started or skipped it (`<runId>/<pass>`). The campaign's steps
   * are local activities: a worker lost before its workflow task completed takes their results with
   * it, and the run does them again; its row read must then find the rows its lost attempt wrote.
   */
  by?: string;
}

export interface CampaignChunkDoc {
  _id: string;
  campaignId: string;
  chunk: number;
  rows: CampaignRow[];
}

export interface CampaignDoc {
  _id: string;
  businessId: string;
  name: string;
  categories: string[];
  plan: { channel: string; waitForMs: number; remindAfterMs: number[] }[];
  status: CampaignStatus | 'starting';
  rowCount: number;
  chunkCount: number;
  accepted: number;
  /** Its journeys' outcomes are counted by row (store/campaign-outcomes.ts); absent on campaigns created before. */
  outcomesByRow?: boolean;
  /** Rows skipped when the file arrived, by reason. */
  skippedAtUpload: Partial<Record<SkipReason, number>>;
  /** Written by the campaign workflow as it goes. */
  progress: {
    started: number;
    skippedAtStart: Partial<Record<SkipReason, number>>;
    firstStartedAt?: Date;
    lastStartedAt?: Date;
    deferred?: number;
    /** The business's WhatsApp tier is used up until then. */
    whatsappTierWaitUntil?: Date;
  };
  cancel?: { journeys: 'finish' | 'cancel'; reason?: string; at: Date };
  /** The key that created it: the ledger events of its journeys name the campaign, and so this. */
  createdBy?: LedgerActor;
  createdAt?: Date;
  /** Last written (mongoose timestamps): when the stored progress was recorded. */
  updatedAt?: Date;
  finishedAt?: Date;
}

const rowSchema = new Schema(
  {
    i: { type: Number, required: true },
    input: String,
    phone: String,
    contactId: String,
    email: String,
    locale: String,
    timezone: String,
    name: String,
    zones: [String],
    outcome: { type: String, required: true },
    state: { type: String, required: true },
    reason: String,
    detail: String,
    journeyId: String,
    startedAt: Date,
    deferredUntil: Date,
    by: String,
  },
  { _id: false },
);

const chunkSchema = new Schema(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    chunk: { type: Number, required: true },
    rows: [rowSchema],
  },
  { versionKey: false },
);

const campaignSchema = new Schema(
  {
    _id: { type: String, required: true },
    businessId: { type: String, required: true },
    name: { type: String, required: true },
    categories: [String],
    plan: Schema.Types.Mixed,
    status: { type: String, required: true },
    rowCount: { type: Number, required: true },
    chunkCount: { type: Number, required: true },
    accepted: { type: Number, required: true },
    outcomesByRow: Boolean,
    skippedAtUpload: Schema.Types.Mixed,
    progress: Schema.Types.Mixed,
    cancel: Schema.Types.Mixed,
    createdBy: Schema.Types.Mixed,
    finishedAt: Date,
  },
  { timestamps: true, versionKey: false, minimize: false },
);
campaignSchema.index({ businessId: 1, createdAt: -1 });

export interface CampaignStore {
  campaigns: Model<CampaignDoc>;
  chunks: Model<CampaignChunkDoc>;
}

const cache = new WeakMap<Connection, CampaignStore>();

/** The campaign models on the store's connection (created once per connection). */
export function campaignStore(store: Store): CampaignStore {
  const existing = cache.get(store.connection);
  if (existing) return existing;
  const created: CampaignStore = {
    campaigns: store.connection.models.Campaign ?? store.connection.model<CampaignDoc>('Campaign', campaignSchema, 'campaigns'),
    chunks: store.connection.models.CampaignRowChunk ?? store.connection.model<CampaignChunkDoc>('CampaignRowChunk', chunkSchema, 'campaign_row_chunks'),
  };
  cache.set(store.connection, created);
  return created;
}

/** Stores rows chunk by chunk; a retried insert hits the same `_id`s and leaves them as they were. */
export async function insertCampaignRows(store: Store, campaignId: string, rows: CampaignRow[]): Promise<number> {
  const { chunks } = campaignStore(store);
  const docs: CampaignChunkDoc[] = [];
  for (let c = 0; c * ROWS_PER_CHUNK < rows.length; c++) {
    docs.push({ _id: chunkIdOf(campaignId, c), campaignId, chunk: c, rows: rows.slice(c * ROWS_PER_CHUNK, (c + 1) * ROWS_PER_CHUNK) });
  }
  for (let k = 0; k < docs.length; k += 50) {
    try {
      await chunks.insertMany(docs.slice(k, k + 50), { ordered: false, lean: true });
    } catch (err) {
      const e = err as { code?: number; writeErrors?: { code?: number }[] };
      const allDuplicates = e.code === 11000 || (e.writeErrors?.length && e.writeErrors.every((w) => w.code === 11000));
      if (!allDuplicates) throw err;
    }
  }
  return docs.length;
}

export async function readChunk(store: Store, campaignId: string, chunk: number): Promise<CampaignChunkDoc | null> {
  return (await campaignStore(store).chunks.findById(chunkIdOf(campaignId, chunk)).lean()) as CampaignChunkDoc | null;
}

/** Rewrites the rows of one chunk. Only the campaign's own workflow writes rows, one activity at a time. */
export async function writeChunkRows(store: Store, campaignId: string, chunk: number, rows: CampaignRow[]): Promise<void> {
  await campaignStore(store).chunks.updateOne({ _id: chunkIdOf(campaignId, chunk) }, { $set: { rows } });
}

/** Journeys per status for one campaign, from the journeys collection. */
export async function journeyCountsOf(store: Store, campaignId: string): Promise<JourneyCounts> {
  const groups = await store.journeys.aggregate<{ _id: string; n: number }>([{ $match: { campaignId } }, { $group: { _id: '$status', n: { $sum: 1 } } }]);
  const counts = noJourneyCounts();
  for (const g of groups) if (g._id in counts) counts[g._id as keyof JourneyCounts] = g.n;
  return counts;
}
