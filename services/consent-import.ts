import { createHash } from 'node:crypto';
import type { KeyActor } from '../domain/access';
import { checkImportRow, type CheckedImportRow, type RawImportRow } from '../domain/consent-import';
import { blockedAmong } from '../store/blocks';
import { beginImport, ensureContacts, finishImport, importKeyOf, optOutsAmong, readImportReport, type ImportCounts, type ImportRowOutcome } from '../store/imports';
import { contactIdOf } from '../store/models';
import { appendConsentEvents, consentEvent, setCurrentConsents, type CurrentConsentChange } from '../store/queries';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';
import { ServiceError } from './errors';

/**
 * Rows checked against the store per lookup: one read each of contacts, blocks and consents. Large,
 * because FerretDB answers an `$in` by reading the whole collection (as the campaign row check).
 */
const LOOKUP_ROWS = 5000;
/** Rows written per round trip: contacts, then ledger events, then current consents. */
const WRITE_ROWS = 500;

export class ImportIdReusedError extends ServiceError {
  constructor(importId: string, businessId: string) {
    const rule = `was already used for an import of other rows for business ${businessId}; a retry must send the same rows, a new import needs a new id`;
    super('conflict', 'import_id_reused', `importId "${importId}" ${rule}`, [{ field: 'importId', rule, value: importId }]);
  }
}

export interface ConsentImport {
  businessId: string;
  importId: string;
  rows: RawImportRow[];
  actor: KeyActor;
}

export interface ImportReport {
  importId: string;
  businessId: string;
  /** True when this import id had already been imported: nothing was written this time. */
  existing: boolean;
  counts: ImportCounts;
  rows: ImportRowOutcome[];
}

function fingerprintOf(rows: RawImportRow[]): string {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(JSON.stringify([r.phone, r.categories, r.evidence?.method, r.evidence?.collectedAt, r.evidence?.shown, r.evidence?.where, r.evidence?.reference])).update('\n');
  return hash.digest('hex');
}

interface ValidRow {
  index: number;
  contactId: string;
  row: CheckedImportRow;
}

/**
 * Imports consents collected elsewhere. Each accepted row becomes one `opted_in` ledger event per
 * category (method `import`, the row's evidence as proof) and moves the current consent forward.
 * A contact who opted out of everything is skipped, and so is every category they opted out of: an
 * import never undoes a STOP. Event ids derive from the import id and the row, so a retry, or an
 * import cut short and sent again, writes nothing twice; a finished import answers its report again.
 */
export async function importConsents(deps: ServiceDeps, req: ConsentImport): Promise<ImportReport> {
  const business = requireKnownBusiness(deps.businesses, req.businessId);
  const key = importKeyOf(business.id, req.importId);
  const fingerprint = fingerprintOf(req.rows);
  const doc = await beginImport(deps.store, { _id: key, businessId: business.id, importId: req.importId, fingerprint, createdBy: req.actor, startedAt: new Date() });
  if (doc.fingerprint !== fingerprint) throw new ImportIdReusedError(req.importId, business.id);
  if (doc.status === 'done' && doc.counts) {
    return { importId: req.importId, businessId: business.id, existing: true, counts: doc.counts, rows: await readImportReport(deps.store, key) };
  }

  const now = new Date();
  const outcomes: ImportRowOutcome[] = new Array(req.rows.length);
  const valid: ValidRow[] = [];
  req.rows.forEach((raw, index) => {
    const checked = checkImportRow(raw, business, now);
    if (checked.ok) valid.push({ index, contactId: contactIdOf(business.id, checked.row.phone), row: checked.row });
    else outcomes[index] = { row: index + 1, outcome: 'invalid', reason: 'invalid_row', detail: checked.detail };
  });

  let events = 0;
  for (let start = 0; start < valid.length; start += LOOKUP_ROWS) {
    events += await importBatch(deps, business, key, req.importId, valid.slice(start, start + LOOKUP_ROWS), req.actor, outcomes);
  }
  const counts: ImportCounts = { total: req.rows.length, accepted: 0, skipped: 0, invalid: 0, events };
  for (const o of outcomes) counts[o.outcome]++;
  await finishImport(deps.store, key, counts, outcomes);
  return { importId: req.importId, businessId: business.id, existing: false, counts, rows: outcomes };
}

async function importBatch(
  deps: ServiceDeps,
  business: ReturnType<typeof requireKnownBusiness>,
  key: string,
  importId: string,
  batch: ValidRow[],
  actor: KeyActor,
  outcomes: ImportRowOutcome[],
): Promise<number> {
  const { contacts, optedOut } = await optOutsAmong(deps.store, batch.map((v) => ({ contactId: v.contactId, categories: v.row.categories })));
  const blocked = await blockedAmong(deps.store, contacts, batch.map((v) => v.contactId));
  const accepted: (ValidRow & { categories: string[] })[] = [];
  for (const v of batch) {
    const base = { row: v.index + 1, contactId: v.contactId };
    if (blocked.has(v.contactId)) {
      outcomes[v.index] = { ...base, outcome: 'skipped', reason: 'opted_out', detail: 'the contact opted out of all messages; only their own act can opt them back in' };
      continue;
    }
    const out = optedOut.get(v.contactId) ?? new Set<string>();
    const categories = v.row.categories.filter((c) => !out.has(c));
    const skippedCategories = v.row.categories.filter((c) => out.has(c));
    if (categories.length === 0) {
      outcomes[v.index] = { ...base, outcome: 'skipped', reason: 'opted_out_of_categories', skippedCategories, detail: 'the contact opted out of every category of the row' };
      continue;
    }
    outcomes[v.index] = { ...base, outcome: 'accepted', categories, ...(skippedCategories.length ? { skippedCategories } : {}) };
    accepted.push({ ...v, categories });
  }
  let events = 0;
  for (let start = 0; start < accepted.length; start += WRITE_ROWS) {
    events += await writeRows(deps, business, key, importId, accepted.slice(start, start + WRITE_ROWS), actor);
  }
  return events;
}

async function writeRows(deps: ServiceDeps, business: ReturnType<typeof requireKnownBusiness>, key: string, importId: string, accepted: (ValidRow & { categories: string[] })[], actor: KeyActor): Promise<number> {
  await ensureContacts(deps.store, accepted.map((v) => ({ businessId: business.id, contactId: v.contactId, phone: v.row.phone })));
  const recordedAt = new Date().toISOString();
  const eventIdOf = (v: ValidRow, category: string) => `${key}:${v.index + 1}:${category}:opted_in`;
  const ledger = accepted.flatMap((v) =>
    v.categories.map((category) =>
      consentEvent({ businessId: business.id, contactId: v.contactId, phone: v.row.phone }, eventIdOf(v, category), category, 'opted_in', new Date(v.row.evidence.collectedAt), {
        method: 'import',
        channel: 'import',
        businessName: business.name,
        importedMethod: v.row.evidence.method,
        shown: v.row.evidence.shown,
        where: v.row.evidence.where,
        reference: v.row.evidence.reference,
        collectedAt: v.row.evidence.collectedAt,
        confirmedCategories: v.categories,
        importId,
        row: v.index + 1,
        recordedAt,
      }, actor),
    ),
  );
  await appendConsentEvents(deps.store, ledger);
  const proofOf = new Map(ledger.map((e) => [e._id, e.proof as Record<string, unknown>]));
  const changes: CurrentConsentChange[] = accepted.flatMap((v) =>
    v.categories.map((category) => ({ businessId: business.id, contactId: v.contactId, phone: v.row.phone, category, status: 'opted_in' as const, since: new Date(v.row.evidence.collectedAt), eventId: eventIdOf(v, category), proof: proofOf.get(eventIdOf(v, category)) })),
  );
  await setCurrentConsents(deps.store, changes);
  return ledger.length;
}
