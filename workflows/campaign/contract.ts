import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignStatus, SkipReason } from '../../domain/campaign';
import type { PacerState } from '../../domain/campaign-pacing';
import { defineWorkflowRef } from '../workflow-ref';

/** The campaign's public surface: what the API and the CLI's server side may import. */

export const CAMPAIGN_WORKFLOW_TYPE = 'campaignWorkflow';
export const campaignWorkflowRef = defineWorkflowRef<CampaignWorkflowInput, CampaignProgress>(CAMPAIGN_WORKFLOW_TYPE);

/** One campaign workflow per campaign id; a new run of the same id only to cancel journeys after completion. */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign.${campaignId}`;
}

/** Where the campaign stands; carried from run to run through continue-as-new. */
export interface CampaignProgress {
  campaignId: string;
  status: CampaignStatus;
  started: number;
  skippedAtStart: Partial<Record<SkipReason, number>>;
  firstStartedAt?: number;
  lastStartedAt?: number;
  /** The pass over the rows: first all rows, then again over rows deferred by quiet hours. */
  pass: { number: number; from: number; to: number; next: number };
  /** Rows left pending in this pass because of quiet hours, to visit again from wakeAt. */
  deferred?: { from: number; to: number; wakeAt: number; count: number };
  pacer: PacerState;
  /** The business's WhatsApp tier is used up (by this or its other campaigns) until then. */
  tierWaitUntil?: number;
  cancel?: CancelCampaignRequest;
  runs: number;
}

export interface CampaignWorkflowInput {
  campaignId: string;
  carried?: CampaignProgress;
  /** Continue as new after this many starts (tests use a handful); default 2,000. */
  maxStartsPerRun?: number;
  /** A run that only cancels the journeys of a campaign that had already started all of them. */
  cancelJourneysOnly?: { reason?: string };
}

export interface CancelCampaignRequest {
  /** finish: running journeys go on to their end; cancel: they are cancelled too. */
  journeys: 'finish' | 'cancel';
  reason?: string;
}

export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
export const pauseCampaignUpdate = defineUpdate<CampaignProgress, []>('pauseCampaign');
export const resumeCampaignUpdate = defineUpdate<CampaignProgress, []>('resumeCampaign');
export const cancelCampaignUpdate = defineUpdate<CampaignProgress, [CancelCampaignRequest]>('cancelCampaign');
