/**
 * WhatsApp's quality rating of a business number (GREEN, YELLOW, RED) drops when contacts block or
 * report its messages; a low rating cuts the messaging limit. Campaigns ease off before that happens:
 * YELLOW starts their WhatsApp journeys `slowdown` times slower, RED starts none until the rating
 * recovers. Single journeys (a person or an agent asking one contact) are not held back.
 */
export const QUALITY_RATINGS = ['GREEN', 'YELLOW', 'RED'] as const;
export type QualityRating = (typeof QUALITY_RATINGS)[number];

/** How often a campaign paused by RED looks at the rating again. */
export const RED_RECHECK_MS = 5_000;
/** The pacing window a campaign batch fills (domain/campaign.ts paces per second). */
const BATCH_WINDOW_MS = 1_000;

export interface QualityPacing {
  /** How many rows of the batch to start now. */
  start: number;
  /** Until when the rest wait. */
  holdUntil?: number;
  effect?: 'slowed' | 'paused';
}

export function qualityPacing(rating: QualityRating | undefined, slowdown: number, batch: number, now: number): QualityPacing {
  if (rating === 'RED') return { start: 0, holdUntil: now + RED_RECHECK_MS, effect: 'paused' };
  if (rating !== 'YELLOW' || slowdown <= 1 || batch === 0) return { start: batch };
  // A batch fills one pacing window: start a 1/slowdown share of it and hold the rest to the next window.
  // A batch smaller than the factor (a slow channel) starts one row in every `slowdown`-th window.
  let start = Math.floor(batch / slowdown);
  if (start === 0) start = Math.floor(now / BATCH_WINDOW_MS) % Math.ceil(slowdown) === 0 ? 1 : 0;
  return start >= batch ? { start, effect: 'slowed' } : { start, holdUntil: now + BATCH_WINDOW_MS, effect: 'slowed' };
}
