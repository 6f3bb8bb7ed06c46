import type { Client } from '@temporalio/client';
import type { BusinessRegistry } from '../domain/business';
import type { SkipReason } from '../domain/campaign';
import type { PacingLimits } from '../domain/campaign-pacing';
import type { QuietHours } from '../domain/quiet-hours';
import type { Store } from '../store/models';
import type { JourneyContact, JourneyStep } from '../workflows/journey/contract';
import { createCampaignCancelActivities } from './campaign-cancel';
import { createCampaignRowActivities } from './campaign-rows';
import { createCampaignStartActivities } from './campaign-starts';

export interface CampaignDeps {
  store: Store;
  businesses: BusinessRegistry;
  /** Starts and cancels the campaign's journeys; without it, the worker's own client (activity context). */
  client?: Client;
  /** The task queue journeys run on; without it, the queue of the activity's own worker. */
  taskQueue?: string;
}

export interface CampaignSettings {
  campaignId: string;
  businessId: string;
  categories: string[];
  plan: JourneyStep[];
  rowCount: number;
  /** When the campaign was stored: no journey of it can have started before. */
  createdAt?: number;
  limits: PacingLimits;
  quietHours: QuietHours;
  pageSize: number;
}

export interface StartableRow {
  index: number;
  contactId: string;
  contact: JourneyContact;
}

export interface RowPage {
  rows: StartableRow[];
  /** Where the next page of this pass begins. */
  next: number;
  /** The page must not be used after this instant: some row's quiet hours begin. */
  validUntil?: number;
  /** Pending rows of this page held back by quiet hours. */
  deferred?: { from: number; to: number; wakeAt: number; count: number };
}

export interface RowStartResult {
  index: number;
  journeyId?: string;
  reason?: SkipReason;
  detail?: string;
  at: number;
  /** Not started: the business's WhatsApp tier is used up until then. The row stays pending. */
  heldUntil?: number;
  /** When the row's group of a paced batch began (epoch ms), for the campaign's pacer. */
  launchedAt?: number;
}

export interface StartBatchInput {
  campaignId: string;
  businessId: string;
  categories: string[];
  plan: JourneyStep[];
  rows: StartableRow[];
  /** When the plan uses WhatsApp: the batch first asks the business's tier workflow for grants. */
  tier?: { requestId: string; limit: number };
  /** The campaign's createdAt (epoch ms), to rule out cheaply that an older journey is one of ours. */
  campaignCreatedAt?: number;
  /**
   * Start the rows in groups of these sizes, in order, the first at once (not before `startAt`, epoch
   * ms, when given) and each next one `everyMs` after the one before (the business's sending
   * windows). Without it every row starts at once.
   */
  pace?: { groups: number[]; everyMs: number; startAt?: number };
}

export function createCampaignActivities(deps: CampaignDeps) {
  return { ...createCampaignRowActivities(deps), ...createCampaignStartActivities(deps), ...createCampaignCancelActivities(deps) };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
