import { csvHeader, csvLine, exportRowOf, ndjsonLine, trailerLine, type ExportFormat, type ExportStatus } from '../domain/consent-export';
import { consentExportBatches, EXPORT_BATCH } from '../store/exports';
import { requireKnownBusiness, requireKnownCategories } from './businesses';
import type { ServiceDeps, ServiceLog } from './deps';
import { InvalidInputError } from './errors';

export interface ConsentExportRequest {
  businessId: string;
  status: ExportStatus;
  category?: string;
  since?: Date;
  until?: Date;
  format: ExportFormat;
}

/** What a reader of a cut-off export is told; the cause goes to the log only. */
const STOPPED = 'the export stopped before its end because the store failed; rows above are correct but the list is incomplete; ask again';

/**
 * A business's opted-in segment of a category, or its opt-out list (one category or all), as text
 * chunks to stream: a header (CSV), a chunk per batch of rows, then the trailer saying whether the
 * list is complete. The request is checked before anything is read, so a bad one is a 400, never a
 * stream that fails. A store failure after the first chunk ends the stream with the error trailer.
 */
export function consentExport(deps: Pick<ServiceDeps, 'store' | 'businesses'>, req: ConsentExportRequest, log: ServiceLog, batchSize = EXPORT_BATCH): AsyncGenerator<string> {
  const business = requireKnownBusiness(deps.businesses, req.businessId, 'query');
  if (req.category) requireKnownCategories(business, [req.category], 'query', 'category');
  else if (req.status === 'opted_in') throw new InvalidInputError('query', [{ field: 'category', rule: 'is required with status=opted_in: the opted-in segment is per category' }]);
  const filter = { businessId: business.id, status: req.status, category: req.category, since: req.since, until: req.until };
  const line = req.format === 'csv' ? csvLine : ndjsonLine;

  return (async function* () {
    let rows = 0;
    if (req.format === 'csv') yield csvHeader();
    try {
      for await (const batch of consentExportBatches(deps.store, filter, batchSize)) {
        yield batch.map(({ consent, proof }) => line(exportRowOf(consent, proof))).join('');
        rows += batch.length;
      }
    } catch (err) {
      log.error({ err, businessId: business.id, status: req.status, category: req.category, rows }, 'consent export stopped: the store failed');
      yield trailerLine(req.format, { rows, error: STOPPED });
      return;
    }
    yield trailerLine(req.format, { rows });
  })();
}
