import { createConsentReport, type ConsentReport, type ReportGroupBy } from '../domain/consent-report';
import type { ReportInterval } from '../domain/report-stats';
import { eachJourneyStarted, eachLedgerEvent, eachOptOutConfirmation } from '../store/reports';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';

export interface ConsentReportRequest {
  businessId: string;
  from: Date;
  to: Date;
  interval: ReportInterval;
  groupBy: ReportGroupBy;
}

/**
 * The consent report of one business: journeys and their outcomes, opt-outs by source and keyword,
 * time to honour an opt-out and time to answer. Three streamed reads side by side; the ledger's
 * opt-outs are joined to their confirmations in memory when all are read (no $lookup on FerretDB).
 */
export async function consentReport(deps: Pick<ServiceDeps, 'store' | 'businesses'>, req: ConsentReportRequest): Promise<ConsentReport & { generatedAt: string; tookMs: number }> {
  const business = requireKnownBusiness(deps.businesses, req.businessId, 'query');
  const began = Date.now();
  const report = createConsentReport({ ...req, businessId: business.id, keywords: business.keywords });
  const range = { from: req.from, to: req.to };
  await Promise.all([
    eachJourneyStarted(deps.store, business.id, range, report.addJourney),
    eachOptOutConfirmation(deps.store, business.id, range, report.addOptOutConfirmation),
    eachLedgerEvent(deps.store, business.id, range, report.addLedgerEvent),
  ]);
  return { ...report.finish(), generatedAt: new Date().toISOString(), tookMs: Date.now() - began };
}
