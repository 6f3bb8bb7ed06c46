import type { Business } from '../domain/business';
import { QUALITY_RATINGS, type QualityRating } from '../domain/whatsapp-quality';

/**
 * Reads a business number's state from the Graph API. Meta's `phone_number_quality_update` webhook says
 * that the rating or the limit changed (FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE) but not the rating
 * itself: `GET /{phone-number-id}?fields=quality_rating` does.
 */
export interface MetaGraphAccess {
  accessToken: string;
  graphBaseUrl: string;
}

const READ_TIMEOUT_MS = 5_000;

export async function readQualityRating(graph: MetaGraphAccess, business: Business): Promise<QualityRating | undefined> {
  if (business.whatsapp.provider !== 'meta') return undefined;
  const { apiVersion, phoneNumberId } = business.whatsapp;
  const url = `${graph.graphBaseUrl.replace(/\/+$/, '')}/${apiVersion}/${encodeURIComponent(phoneNumberId)}?fields=quality_rating`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${graph.accessToken}` }, signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`the Graph API answered ${res.status} for the number's quality rating`);
  const rating = ((await res.json()) as { quality_rating?: unknown }).quality_rating;
  return QUALITY_RATINGS.find((q) => q === rating);
}
