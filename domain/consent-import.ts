import type { Business } from './business';
import { normalizePhone } from './phone';

/**
 * Consents collected elsewhere (a CRM, another sender, a paper campaign) brought into the ledger, one
 * row per contact with the evidence of how and when they agreed. The rules here are the row's own;
 * whether the contact has since opted out is the store's to say.
 */

export const MAX_IMPORT_ROWS = 100_000;
export const MAX_IMPORT_CSV_BYTES = 20 * 1024 * 1024;
export const IMPORT_CSV_COLUMNS = ['phone', 'categories', 'method', 'collected_at', 'shown', 'where', 'reference'] as const;
export type ImportCsvColumn = (typeof IMPORT_CSV_COLUMNS)[number];
export const importIdPattern = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Clocks of the system that collected the consent may run a little ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60_000;
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A row as it arrived, JSON or CSV, before any check. */
export interface RawImportRow {
  phone?: unknown;
  categories?: unknown;
  evidence?: { method?: unknown; collectedAt?: unknown; shown?: unknown; where?: unknown; reference?: unknown };
}

export interface ImportEvidence {
  /** How the other system collected it, in its words: web_form, checkout_checkbox, paper, keyword ... */
  method: string;
  collectedAt: string;
  /** What the contact was shown or told when they agreed. */
  shown: string;
  /** Where: the page, the store, the campaign. */
  where?: string;
  /** The consent's id in the other system. */
  reference: string;
}

export interface CheckedImportRow {
  phone: string;
  categories: string[];
  evidence: ImportEvidence;
}

export type ImportRowCheck = { ok: true; row: CheckedImportRow } | { ok: false; detail: string };

function text(value: unknown, field: string, max: number, required: boolean): { ok: true; value?: string } | { ok: false; detail: string } {
  if (value === undefined || value === null || value === '') return required ? { ok: false, detail: `${field}: is required` } : { ok: true };
  if (typeof value !== 'string') return { ok: false, detail: `${field}: must be text` };
  const trimmed = value.trim();
  if (required && !trimmed) return { ok: false, detail: `${field}: is required` };
  if (trimmed.length > max) return { ok: false, detail: `${field}: must be at most ${max} characters` };
  return { ok: true, value: trimmed || undefined };
}

/** The categories of a CSV cell: separated by ";", "," or spaces. */
export function splitCategories(cell: string): string[] {
  return cell.split(/[;,\s]+/).filter(Boolean);
}

export function checkImportRow(raw: RawImportRow, business: Business, now: Date): ImportRowCheck {
  const phone = normalizePhone(typeof raw.phone === 'string' ? raw.phone : '');
  if (!phone.ok) return { ok: false, detail: `phone: ${phone.rule}` };
  const categories = typeof raw.categories === 'string' ? splitCategories(raw.categories) : raw.categories;
  if (!Array.isArray(categories) || categories.length === 0 || !categories.every((c) => typeof c === 'string')) return { ok: false, detail: 'categories: must name at least one category' };
  const known = new Set(business.categories.map((c) => c.id));
  const unknown = categories.filter((c) => !known.has(c));
  if (unknown.length) return { ok: false, detail: `categories: ${unknown.map((c) => `"${c}"`).join(', ')} not a category of ${business.id} (${[...known].join(', ')})` };
  if (new Set(categories).size !== categories.length) return { ok: false, detail: 'categories: must not repeat a category' };

  const e = raw.evidence ?? {};
  const method = text(e.method, 'evidence.method', 60, true);
  if (!method.ok) return method;
  const shown = text(e.shown, 'evidence.shown', 4000, true);
  if (!shown.ok) return shown;
  const where = text(e.where, 'evidence.where', 500, false);
  if (!where.ok) return where;
  const reference = text(e.reference, 'evidence.reference', 200, true);
  if (!reference.ok) return reference;
  const collected = text(e.collectedAt, 'evidence.collectedAt', 40, true);
  if (!collected.ok) return collected;
  const at = Date.parse(collected.value!);
  if (!isoDateTime.test(collected.value!) || Number.isNaN(at)) return { ok: false, detail: 'evidence.collectedAt: must be an ISO 8601 date-time with its offset, such as "2025-03-01T14:30:00Z"' };
  if (at > now.getTime() + CLOCK_SKEW_MS) return { ok: false, detail: 'evidence.collectedAt: must not be in the future' };

  return {
    ok: true,
    row: {
      phone: phone.e164,
      categories: categories as string[],
      evidence: { method: method.value!, collectedAt: new Date(at).toISOString(), shown: shown.value!, ...(where.value ? { where: where.value } : {}), reference: reference.value! },
    },
  };
}
