import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { IMPORT_CSV_COLUMNS, MAX_IMPORT_CSV_BYTES, MAX_IMPORT_ROWS, type ImportCsvColumn, type RawImportRow } from '../domain/consent-import';
import { HttpError } from './errors';

const REQUIRED: readonly ImportCsvColumn[] = ['phone', 'categories', 'method', 'collected_at', 'shown', 'reference'];
const tooLarge = () => new HttpError(413, 'payload_too_large', `the CSV file is larger than ${MAX_IMPORT_CSV_BYTES / 1024 / 1024} MB`);

function rowOf(record: string[], columns: ImportCsvColumn[]): RawImportRow {
  const cell = (name: ImportCsvColumn) => {
    const k = columns.indexOf(name);
    return k >= 0 && record[k] !== '' ? record[k] : undefined;
  };
  return {
    phone: cell('phone'),
    categories: cell('categories'),
    evidence: { method: cell('method'), collectedAt: cell('collected_at'), shown: cell('shown'), where: cell('where'), reference: cell('reference') },
  };
}

/** Reads an import's CSV as it streams in: the header names the columns (any order), each line is a row. */
export async function readImportCsv(body: Readable): Promise<RawImportRow[]> {
  let bytes = 0;
  let overLimit = false;
  const parser = parseCsv({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 64 * 1024 });
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_IMPORT_CSV_BYTES && !overLimit) {
      overLimit = true;
      parser.destroy(tooLarge());
    }
  });
  body.pipe(parser);
  const rows: RawImportRow[] = [];
  let columns: ImportCsvColumn[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        const names = record.map((h) => h.trim().toLowerCase());
        const unknown = names.findIndex((n) => !(IMPORT_CSV_COLUMNS as readonly string[]).includes(n));
        if (unknown >= 0) throw new HttpError(400, 'invalid_csv', `CSV header: column ${unknown + 1} "${record[unknown]}" is not one of ${IMPORT_CSV_COLUMNS.join(', ')}`, [{ field: `header.${unknown}`, rule: `must be one of ${IMPORT_CSV_COLUMNS.join(', ')}`, value: record[unknown] }]);
        const missing = REQUIRED.filter((r) => !names.includes(r));
        if (missing.length) throw new HttpError(400, 'invalid_csv', `CSV header: the columns ${missing.join(', ')} are required`, [{ field: 'header', rule: `must have the columns ${REQUIRED.join(', ')}`, value: missing.join(',') }]);
        columns = names as ImportCsvColumn[];
        continue;
      }
      if (rows.length >= MAX_IMPORT_ROWS) throw new HttpError(413, 'too_many_rows', `the CSV file has more than ${MAX_IMPORT_ROWS} rows; split it into several imports`);
      rows.push(rowOf(record, columns));
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (overLimit) throw tooLarge();
    const e = err as { lines?: number; message: string };
    throw new HttpError(400, 'invalid_csv', `CSV line ${e.lines ?? '?'}: ${e.message}`);
  }
  if (!columns) throw new HttpError(400, 'invalid_csv', `the CSV file is empty: it needs a header line with the columns ${REQUIRED.join(', ')}`);
  if (rows.length === 0) throw new HttpError(400, 'invalid_csv', 'the CSV file has a header but no rows');
  return rows;
}
