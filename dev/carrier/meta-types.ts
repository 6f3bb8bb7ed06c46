/** The Graph API (WhatsApp Cloud API) side of the local carrier: its numbers, templates and webhooks. */

export type MetaQuality = 'GREEN' | 'YELLOW' | 'RED';
export const META_TIERS = ['TIER_250', 'TIER_1K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'] as const;
export type MetaTier = (typeof META_TIERS)[number];

/** A template as Meta approved it: body text with `{{1}}`…, quick-reply button labels, its category and languages. */
export interface MetaTemplate {
  text: string;
  buttons?: string[];
  category: 'MARKETING' | 'UTILITY';
  languages: string[];
}

export interface MetaNumberOptions {
  phoneNumberId: string;
  /** E.164, as the contact sees it. */
  displayNumber: string;
  wabaId?: string;
}

export interface MetaCarrierOptions {
  accessToken: string;
  appSecret: string;
  /** Our API's `POST /webhooks/meta`; every Meta webhook goes there. */
  webhookUrl?: string;
  numbers: MetaNumberOptions[];
  templates: Record<string, MetaTemplate>;
}

/** A business number's state at Meta, as the carrier page changes it. */
export interface MetaNumberState {
  phoneNumberId: string;
  displayNumber: string;
  wabaId: string;
  quality: MetaQuality;
  tier: MetaTier;
}

/** One webhook the carrier sent as Meta: the exact body and signature, so a test can deliver it again. */
export interface MetaWebhookDelivery {
  field: string;
  url: string;
  body: string;
  signature: string;
  httpStatus: number;
  at: string;
  error?: string;
}
