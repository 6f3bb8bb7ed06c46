import { createConsentReport, type ConsentReport, type ReportGroupBy } from '../domain/consent-report';
import type { ReportInterval } from '../domain/report-stats';
import { createPageToken, verifyPageToken } from '../lib/tokens';
import { eachJourneyStarted, eachLedgerEvent, eachSentMessage } from '../store/reports';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';
import { reportFromDays } from './report-days';

export interface ConsentReportRequest {
  businessId: string;
  from: Date;
  to: Date;
  interval: ReportInterval;
  groupBy: ReportGroupBy;
  /** Compute from the store even when the daily aggregate could answer. */
  fresh?: boolean;
}

export type ConsentReportAnswer = ConsentReport & {
  /** `daily`: from the pre-aggregated days, current as of `asOf`; `live`: read from the store now. */
  computedFrom: 'daily' | 'live';
  asOf: string;
  generatedAt: string;
  tookMs: number;
};

/**
 * The consent report of one business: journeys and their outcomes, opt-outs by source and keyword,
 * time to honour an opt-out and time to answer, opt-outs per message sent. From the daily figures the
 * report sweep keeps (one read by _id per month) when they cover the window, unless `fresh`; else live:
 * three streamed reads side by side, the ledger's opt-outs joined to their confirmations in memory
 * (no $lookup on FerretDB).
 */
export async function consentReport(deps: Pick<ServiceDeps, 'store' | 'businesses'>, req: ConsentReportRequest): Promise<ConsentReportAnswer> {
  const business = requireKnownBusiness(deps.businesses, req.businessId, 'query');
  const began = Date.now();
  const daily = req.fresh ? undefined : await reportFromDays(deps, business, req, began);
  if (daily) return { ...daily, computedFrom: 'daily', generatedAt: new Date().toISOString(), tookMs: Date.now() - began };
  const report = createConsentReport({ ...req, businessId: business.id, keywords: business.keywords });
  const range = { from: req.from, to: req.to };
  await Promise.all([
    eachJourneyStarted(deps.store, business.id, range, report.addJourney),
    eachSentMessage(deps.store, business.id, range, { optOutConfirmation: report.addOptOutConfirmation, message: report.addMessageSent }),
    eachLedgerEvent(deps.store, business.id, range, report.addLedgerEvent),
  ]);
  const generatedAt = new Date().toISOString();
  return { ...report.finish(), computedFrom: 'live', asOf: new Date(began).toISOString(), generatedAt, tookMs: Date.now() - began };
}

const MINUTE_MS = 60_000;

/** A link to the report page that reads without the API key until it expires; the token names the business. */
export function reportLink(deps: Pick<ServiceDeps, 'businesses' | 'publicBaseUrl' | 'pageTokenSecret'>, businessId: string, validForMinutes: number): { url: string; expiresAt: string } {
  const business = requireKnownBusiness(deps.businesses, businessId, 'query');
  const expiresAtMs = Date.now() + validForMinutes * MINUTE_MS;
  const token = createPageToken(deps.pageTokenSecret, { p: 'report', b: business.id, c: '', exp: Math.floor(expiresAtMs / 1000) });
  const url = new URL(`/reports/${encodeURIComponent(business.id)}`, deps.publicBaseUrl);
  url.searchParams.set('token', token);
  return { url: url.toString(), expiresAt: new Date(expiresAtMs).toISOString() };
}

/** Whether a report link's token lets its holder read this business's report now. */
export function reportLinkAllows(deps: Pick<ServiceDeps, 'pageTokenSecret'>, token: string, businessId: string): 'ok' | 'expired' | 'invalid' {
  const check = verifyPageToken(deps.pageTokenSecret, token, 'report');
  if (!check.ok) return check.reason === 'expired' ? 'expired' : 'invalid';
  return check.payload.b === businessId ? 'ok' : 'invalid';
}
