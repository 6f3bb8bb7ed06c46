import type { LedgerActor } from '../domain/access';
import { isDuplicateKey } from './errors';
import type { Store } from './models';

/**
 * Bulk consent imports (POST /v1/consents/import). The import's document is keyed by business and the
 * caller's import id, so a retried import finds it; its per-row report is kept in chunks, without
 * phone numbers (the contact id stands for them).
 */

export interface ImportRowOutcome {
  /** 1-based: the first row after a CSV header, the first item of a JSON list. */
  row: number;
  outcome: 'accepted' | 'skipped' | 'invalid';
  contactId?: string;
  categories?: string[];
  /** Categories of an accepted row left out: the contact opted out of them. */
  skippedCategories?: string[];
  reason?: 'opted_out' | 'opted_out_of_categories' | 'invalid_row';
  detail?: string;
}

export interface ImportCounts {
  total: number;
  accepted: number;
  skipped: number;
  invalid: number;
  events: number;
}

export interface ImportDoc {
  _id: string;
  businessId: string;
  importId: string;
  /** SHA-256 of the rows as sent: the same id with other rows is another import, refused. */
  fingerprint: string;
  status: 'running' | 'done';
  createdBy?: LedgerActor;
  counts?: ImportCounts;
  startedAt: Date;
  finishedAt?: Date;
}

interface ReportChunkDoc {
  _id: string;
  importKey: string;
  chunk: number;
  rows: ImportRowOutcome[];
}

export const REPORT_ROWS_PER_CHUNK = 1000;

const importsOf = (store: Store) => store.connection.collection<ImportDoc>('consent_imports');
const reportsOf = (store: Store) => store.connection.collection<ReportChunkDoc>('consent_import_rows');

export function importKeyOf(businessId: string, importId: string): string {
  return `import.${businessId}.${importId}`;
}

/** The import under the key, created `running` when there is none; answers the one that was there first. */
export async function beginImport(store: Store, doc: Omit<ImportDoc, 'status'>): Promise<ImportDoc> {
  try {
    await importsOf(store).insertOne({ ...doc, status: 'running' });
    return { ...doc, status: 'running' };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const earlier = await importsOf(store).findOne({ _id: doc._id });
  if (!earlier) throw new Error(`import ${doc._id} was taken and then disappeared`);
  return earlier;
}

export async function finishImport(store: Store, key: string, counts: ImportCounts, outcomes: ImportRowOutcome[]): Promise<void> {
  const chunks: ReportChunkDoc[] = [];
  for (let i = 0; i * REPORT_ROWS_PER_CHUNK < outcomes.length; i++) {
    chunks.push({ _id: `${key}:${i}`, importKey: key, chunk: i, rows: outcomes.slice(i * REPORT_ROWS_PER_CHUNK, (i + 1) * REPORT_ROWS_PER_CHUNK) });
  }
  if (chunks.length) await reportsOf(store).bulkWrite(chunks.map((c) => ({ replaceOne: { filter: { _id: c._id }, replacement: c, upsert: true } })), { ordered: false });
  await importsOf(store).updateOne({ _id: key }, { $set: { status: 'done', counts, finishedAt: new Date() } });
}

export async function readImportReport(store: Store, key: string): Promise<ImportRowOutcome[]> {
  const chunks = await reportsOf(store).find({ importKey: key }).sort({ chunk: 1 }).toArray();
  return chunks.flatMap((c) => c.rows);
}

/** What the store knows of these contacts: their documents, and the categories each has opted out of (read by _id, the one index FerretDB uses). */
export async function optOutsAmong(store: Store, wanted: { contactId: string; categories: string[] }[]): Promise<{ contacts: { _id: string; messaging?: string | null }[]; optedOut: Map<string, Set<string>> }> {
  const contactIds = [...new Set(wanted.map((w) => w.contactId))];
  const consentIds = [...new Set(wanted.flatMap((w) => w.categories.map((c) => `${w.contactId}:${c}`)))];
  const [contacts, consents] = await Promise.all([
    store.contacts.find({ _id: { $in: contactIds } }).lean(),
    store.consents.find({ _id: { $in: consentIds } }).lean(),
  ]);
  const optedOut = new Map<string, Set<string>>();
  for (const c of consents) if (c.status === 'opted_out') optedOut.set(c.contactId, (optedOut.get(c.contactId) ?? new Set()).add(c.category));
  return { contacts: contacts.map((c) => ({ _id: String(c._id), messaging: c.messaging })), optedOut };
}

/** Creates the contacts not yet known, in one round trip; what is known of the others is left as it is. */
export async function ensureContacts(store: Store, contacts: { businessId: string; contactId: string; phone: string }[]): Promise<void> {
  if (contacts.length === 0) return;
  const ops = contacts.map((c) => ({ updateOne: { filter: { _id: c.contactId }, update: { $setOnInsert: { businessId: c.businessId, phone: c.phone, messaging: 'allowed' } }, upsert: true } }));
  // A contact created at the same moment by a journey refuses its upsert: it exists, which is all this
  // asks. The batch runs again, since FerretDB 1.24 stops an unordered batch at its first refusal and
  // the contacts after it were never tried; each round creates at least the one refused before.
  for (let round = 0; ; round++) {
    try {
      await store.contacts.bulkWrite(ops, { ordered: false });
      return;
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
      if (!(Array.isArray(writeErrors) && writeErrors.every((e) => (e.code ?? e.err?.code) === 11000)) && !isDuplicateKey(err)) throw err;
      if (round === ops.length) throw err;
    }
  }
}
