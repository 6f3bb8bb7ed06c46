import type { Channel } from './business';
import { SERVICE_WINDOW_MS } from './whatsapp-window';

/** The first message leaves seconds after the start, later on a busy worker: the window must stay open this much longer. */
const SERVICE_WINDOW_MARGIN_MS = 3_600_000;

/**
 * WhatsApp counts a business-initiated conversation against the number's tier: a journey whose first
 * step is WhatsApp opens one (an opt-in template), unless every message of that step, reminders
 * included, goes out while the contact's customer service window is open; those are free session
 * messages (the send activity then sends a quick reply, not the template).
 */
export function drawsWhatsappTier(plan: ReadonlyArray<{ channel: Channel; remindAfterMs: number[] }>, lastWhatsappInboundAt: Date | string | undefined | null, now = Date.now()): boolean {
  const first = plan[0];
  if (first?.channel !== 'whatsapp') return false;
  if (!lastWhatsappInboundAt) return true;
  const lastSendAt = now + Math.max(0, ...first.remindAfterMs);
  return new Date(lastWhatsappInboundAt).getTime() + SERVICE_WINDOW_MS < lastSendAt + SERVICE_WINDOW_MARGIN_MS;
}

/** Meta's messaging limits (current_limit of phone_number_quality_update) as new contacts per 24 hours. */
const META_LIMITS: Record<string, number> = { TIER_50: 50, TIER_250: 250, TIER_1K: 1_000, TIER_2K: 2_000, TIER_10K: 10_000, TIER_100K: 100_000, TIER_UNLIMITED: 1_000_000 };

/**
 * The tier a business sends under: the messaging limit Meta last reported for its number, else the one
 * configured in the businesses file. A limit we do not know (TIER_NOT_SET, a new name) keeps the configured one.
 */
export function effectiveWhatsappTier(configured: number, reportedLimit: string | undefined): number {
  return (reportedLimit && META_LIMITS[reportedLimit]) || configured;
}
