import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineWorkflowRef } from '../workflow-ref';

/**
 * The WhatsApp tier of one business's number: how many new contacts it may start conversations with
 * per rolling 24 hours (250, 2,000, 10,000, 100,000). One long-lived workflow per business holds the
 * count, so every campaign of the business draws from one budget. FerretDB 1.24 rewrites whole
 * documents and loses concurrent `$inc`s on one counter; updates to one workflow are serialised.
 */

export const WHATSAPP_TIER_WORKFLOW_TYPE = 'whatsappTierWorkflow';
export const WHATSAPP_TIER_WINDOW_MS = 86_400_000;
export const whatsappTierWorkflowRef = defineWorkflowRef<WhatsappTierInput, TierUsage>(WHATSAPP_TIER_WORKFLOW_TYPE);

export function whatsappTierWorkflowId(businessId: string): string {
  return `whatsapp-tier.${businessId}`;
}

export interface WhatsappTierInput {
  businessId: string;
  /** The rolling window; 24 hours unless a test starts the workflow itself with a shorter one. */
  windowMs?: number;
  carried?: WhatsappTierState;
}

export interface WhatsappTierState {
  /** New contacts granted, by the bucket (a 1/1440 slice of the window) they were granted in. */
  buckets: { at: number; n: number }[];
  /** Recent requests, so a retried request gets its first answer and a release counts once. */
  recent: { requestId: string; bucketAt: number; granted: number; released: boolean }[];
  lastLimit?: number;
  lastRequestAt: number;
}

export interface TierGrantRequest {
  /** The same on every retry of one request: the grant is answered once. */
  requestId: string;
  campaignId: string;
  wanted: number;
  /** The business's tier as configured now (it grows with the number's quality rating). */
  limit: number;
}

export interface TierGrant {
  granted: number;
  used: number;
  limit: number;
  /** When wanted > granted: the instant the oldest grant in the window expires. */
  nextFreeAt?: number;
}

export interface TierRelease {
  requestId: string;
  /** Grants of the request that started no journey (the contact had one running). */
  unused: number;
}

export interface TierUsage {
  businessId: string;
  windowMs: number;
  used: number;
  limit?: number;
  nextFreeAt?: number;
}

export const grantNewContactsUpdate = defineUpdate<TierGrant, [TierGrantRequest]>('grantNewContacts');
export const releaseNewContactsUpdate = defineUpdate<TierUsage, [TierRelease]>('releaseNewContacts');
export const whatsappTierUsageQuery = defineQuery<TierUsage>('whatsappTierUsage');
