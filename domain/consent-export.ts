/**
 * The rows of a consent export and how they are written as NDJSON or CSV. An export is streamed, so a
 * reader cannot tell a finished file from one cut off by a failing store unless the file says so:
 * every export ends with one trailer (NDJSON: a last line with `kind` "end" or "error"; CSV: a last
 * row whose first cell is `#end` or `#error`), and only `#end`/"end" means every row was written.
 */

export type ExportFormat = 'ndjson' | 'csv';
export type ExportStatus = 'opted_in' | 'opted_out';

export interface ConsentExportRow {
  contactId: string;
  phone: string;
  category: string;
  status: ExportStatus;
  /** When the consent took its current status (the ledger event's time). */
  since: string;
  eventId: string;
  /** How: the ledger event's method (sms_reply, keyword, whatsapp_button, offline_document, api, ...). */
  method?: string;
  channel?: string;
  /** Who asked or where it came from: a journey's source kind (campaign, api, agent), or the opt-out's method. */
  source?: string;
  reference?: string;
  /** For an opt-out by keyword: the word matched and its language. */
  keyword?: string;
  keywordLanguage?: string;
  journeyId?: string;
  optOutId?: string;
  confirmationMessageId?: string;
}

export const EXPORT_COLUMNS = [
  'contactId',
  'phone',
  'category',
  'status',
  'since',
  'eventId',
  'method',
  'channel',
  'source',
  'reference',
  'keyword',
  'keywordLanguage',
  'journeyId',
  'optOutId',
  'confirmationMessageId',
] as const satisfies readonly (keyof ConsentExportRow)[];

/**
 * The proof fields an export row reads. The current consent keeps a copy of them from the event that
 * set it, so an export is one cursor over the consents with no ledger read per row.
 */
export const EXPORT_PROOF_FIELDS = ['method', 'channel', 'source', 'reference', 'matchedKeyword', 'keywordLanguage', 'journeyId', 'optOutId'] as const;

export function exportProofOf(proof: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of EXPORT_PROOF_FIELDS) if (proof[k] !== undefined && proof[k] !== null) out[k] = proof[k];
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The export row of a current consent and the proof of the ledger event that set it (missing when the event is gone). */
export function exportRowOf(
  consent: { contactId: string; phone: string; category: string; status: ExportStatus; since: Date; lastEventId: string; journeyId?: string | null; confirmationMessageId?: string | null },
  proof: Record<string, unknown> | undefined,
): ConsentExportRow {
  const p = proof ?? {};
  const source = p.source && typeof p.source === 'object' ? (p.source as Record<string, unknown>) : undefined;
  const row: ConsentExportRow = {
    contactId: consent.contactId,
    phone: consent.phone,
    category: consent.category,
    status: consent.status,
    since: consent.since.toISOString(),
    eventId: consent.lastEventId,
    method: str(p.method),
    channel: str(p.channel),
    source: str(source?.kind) ?? (consent.status === 'opted_out' ? str(p.method) : undefined),
    reference: str(source?.reference) ?? str(p.reference),
    keyword: str(p.matchedKeyword),
    keywordLanguage: str(p.keywordLanguage),
    journeyId: str(consent.journeyId) ?? str(p.journeyId),
    optOutId: str(p.optOutId),
    confirmationMessageId: str(consent.confirmationMessageId),
  };
  for (const k of EXPORT_COLUMNS) if (row[k] === undefined) delete row[k];
  return row;
}

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (starting with = + - @, or a tab or
 * carriage return that some strip before looking) gets a leading apostrophe, so opening the export
 * cannot run anything; phone numbers in E.164 therefore read '+14155550100 in the CSV (the NDJSON
 * export has them as they are). Quotes, commas and line breaks are quoted as RFC 4180 says.
 */
export function csvCell(value: string | undefined): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

export function csvLine(row: ConsentExportRow): string {
  return `${EXPORT_COLUMNS.map((k) => csvCell(row[k])).join(',')}\r\n`;
}

export function ndjsonLine(row: ConsentExportRow): string {
  return `${JSON.stringify({ kind: 'consent', ...row })}\n`;
}

export interface ExportOutcome {
  rows: number;
  /** Set when the export stopped early: what the reader is told (nothing internal). */
  error?: string;
}

/** The last line: "end" with the row count when every row was written, "error" when it stopped early. */
export function trailerLine(format: ExportFormat, outcome: ExportOutcome): string {
  if (format === 'ndjson') {
    return `${JSON.stringify(outcome.error === undefined ? { kind: 'end', complete: true, rows: outcome.rows } : { kind: 'error', complete: false, rows: outcome.rows, error: outcome.error })}\n`;
  }
  return outcome.error === undefined ? `#end,${outcome.rows}\r\n` : `#error,${outcome.rows},${csvCell(outcome.error)}\r\n`;
}

/** Reads a CSV cell back (the apostrophe guard removed): for readers and tests of the export. */
export function csvCellValue(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}
