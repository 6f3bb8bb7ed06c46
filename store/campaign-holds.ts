import { Schema, type Model } from 'mongoose';
import type { Store } from './models';

/**
 * A pause or cancel the API has asked a campaign for, kept where the start activity can see it before
 * the workflow does. The workflow takes an update only when its workflow task is let go or renewed
 * (every 3.2 s while batches chain: docs/campaigns.md), so without this a paused campaign went on
 * starting journeys for seconds. The activity reads the hold before each group of starts and hands the
 * rest of its batch back held; the workflow then waits a moment, which lets the update in.
 *
 * One document per campaign, written only by the API: the campaign document itself is rewritten by
 * the workflow's records, and FerretDB applies an update by reading the document and writing it back,
 * so two writers of one document can undo each other.
 */

export type StartsHeldFor = 'pause' | 'cancel';

interface HoldDoc {
  _id: string;
  for: StartsHeldFor;
  at: Date;
}

/**
 * A hold older than this is ignored: the update it came with has been taken by then (pause and cancel
 * are answered in seconds) or never will be (the API stopped between the two), and a hold left behind
 * must not stop the campaign for good.
 */
export const HOLD_FRESH_MS = 60_000;

const holdSchema = new Schema({ _id: { type: String, required: true }, for: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

/** The model on the store's connection; mongoose keeps it once registered. */
function holds(store: Store): Model<HoldDoc> {
  return store.connection.models.CampaignHold ?? store.connection.model<HoldDoc>('CampaignHold', holdSchema, 'campaign_holds');
}

export async function holdCampaignStarts(store: Store, campaignId: string, reason: StartsHeldFor, at = new Date()): Promise<void> {
  await holds(store).updateOne({ _id: campaignId }, { $set: { for: reason, at } }, { upsert: true });
}

export async function releaseCampaignStarts(store: Store, campaignId: string): Promise<void> {
  await holds(store).deleteOne({ _id: campaignId });
}

/** Why the campaign's starts are held now, if they are. */
export async function campaignStartsHeld(store: Store, campaignId: string, now = Date.now()): Promise<StartsHeldFor | undefined> {
  const hold = await holds(store).findById(campaignId).lean<HoldDoc>();
  return hold && now - new Date(hold.at).getTime() < HOLD_FRESH_MS ? hold.for : undefined;
}
