import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { CSV_COLUMNS, MAX_CAMPAIGN_ROWS, MAX_CSV_BYTES, type CsvColumn } from '../domain/campaign';
import type { RawRow } from '../domain/campaign-rows';
import { HttpError } from './errors';

/** Reads a CSV body as it streams in: checks the header, the size and the row count. */
export async function readCsvRows(body: Readable): Promise<RawRow[]> {
  let bytes = 0;
  let tooLarge = false;
  const parser = parseCsv({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 64 * 1024 });
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_CSV_BYTES && !tooLarge) {
      tooLarge = true;
      parser.destroy(new HttpError(413, 'payload_too_large', `the CSV file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB`));
    }
  });
  body.pipe(parser);
  const rows: RawRow[] = [];
  let columns: (CsvColumn | undefined)[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        const names = record.map((h) => h.trim().toLowerCase());
        const unknown = names.findIndex((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
        if (unknown >= 0) {
          throw new HttpError(400, 'invalid_csv', `CSV header: column ${unknown + 1} "${record[unknown]}" is not one of ${CSV_COLUMNS.join(', ')}`, [{ field: `header.${unknown}`, rule: `must be one of ${CSV_COLUMNS.join(', ')}`, value: record[unknown] }]);
        }
        const repeated = names.find((n, k) => names.indexOf(n) !== k);
        if (repeated) throw new HttpError(400, 'invalid_csv', `CSV header: column "${repeated}" appears twice`, [{ field: 'header', rule: 'must not repeat a column', value: repeated }]);
        if (!names.includes('phone')) throw new HttpError(400, 'invalid_csv', 'CSV header: the "phone" column is required', [{ field: 'header', rule: 'must have a phone column' }]);
        columns = names as CsvColumn[];
        continue;
      }
      if (rows.length >= MAX_CAMPAIGN_ROWS) throw new HttpError(413, 'too_many_rows', `the CSV file has more than ${MAX_CAMPAIGN_ROWS} rows`);
      const row: RawRow = {};
      record.forEach((value, k) => {
        const column = columns![k];
        if (column && value !== '') row[column] = value;
      });
      if (record.length > columns.length) row.fieldCount = record.length;
      rows.push(row);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (tooLarge) throw new HttpError(413, 'payload_too_large', `the CSV file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB`);
    const e = err as { code?: string; lines?: number; message: string };
    throw new HttpError(400, 'invalid_csv', `CSV line ${e.lines ?? '?'}: ${e.message}`);
  }
  if (!columns) throw new HttpError(400, 'invalid_csv', 'the CSV file is empty: it needs a header line with at least a "phone" column');
  if (rows.length === 0) throw new HttpError(400, 'invalid_csv', 'the CSV file has a header but no rows');
  return rows;
}
