/**
 * Pure campaign rules shared by the API, the activities and the campaign workflow: what a file may
 * hold, why a row is skipped, the statuses and the reported figures (pacing: ./campaign-pacing.ts,
 * quiet hours: ./quiet-hours.ts). No I/O, no clock: every function takes the time it reasons about.
 */

export const MAX_CAMPAIGN_ROWS = 100_000;
export const MAX_CSV_BYTES = 10 * 1024 * 1024;
export const CSV_COLUMNS = ['phone', 'email', 'locale', 'timezone', 'name'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Why a row got no journey. The first six are decided when the file arrives, the rest while starting. */
export const SKIP_REASONS = [
  'invalid_phone',
  'invalid_field',
  'duplicate_in_file',
  'opted_out',
  'already_opted_in',
  'frequency_cap',
  'journey_already_running',
  'campaign_cancelled',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const CAMPAIGN_STATUSES = ['running', 'paused', 'cancelling', 'cancelled', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export function isFinalCampaignStatus(s: string): boolean {
  return s === 'cancelled' || s === 'completed';
}

export interface JourneyCounts {
  active: number;
  confirmed: number;
  declined: number;
  expired: number;
  opted_out: number;
  cancelled: number;
}

export const noJourneyCounts = (): JourneyCounts => ({ active: 0, confirmed: 0, declined: 0, expired: 0, opted_out: 0, cancelled: 0 });

/** Opt-in rate over journeys that reached an answer or a deadline; active ones do not count yet. */
export function optInRate(c: JourneyCounts): number {
  const ended = c.confirmed + c.declined + c.expired + c.opted_out + c.cancelled;
  return ended === 0 ? 0 : Math.round((c.confirmed / ended) * 10_000) / 10_000;
}

export function startedPerSecond(started: number, firstStartedAt?: number, lastStartedAt?: number): number {
  if (!firstStartedAt || !lastStartedAt || started < 2 || lastStartedAt <= firstStartedAt) return 0;
  return Math.round(((started - 1) / ((lastStartedAt - firstStartedAt) / 1000)) * 100) / 100;
}
