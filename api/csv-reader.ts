import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import { HttpError } from './errors';

/** What differs between the CSV bodies the API takes (campaign rows, consent imports); the reading is shared. */
export interface CsvTableSpec<C extends string, R> {
  columns: readonly C[];
  maxBytes: number;
  maxRows: number;
  tooManyRows: string;
  /** Said when the body has no header line at all. */
  emptyFile: string;
  /** Rules on the (known, lower-cased) header beyond "every column is known": required or repeated columns. */
  checkHeader(names: C[]): void;
  toRow(record: string[], columns: C[]): R;
}

/**
 * Reads a CSV body as it streams in, header first: the size is checked on the raw bytes so an
 * oversized upload is cut off early, unknown columns are named with their position, and a parse
 * error names its line.
 */
export async function readCsvTable<C extends string, R>(body: Readable, spec: CsvTableSpec<C, R>): Promise<R[]> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `the CSV file is larger than ${spec.maxBytes / 1024 / 1024} MB`);
  let bytes = 0;
  let overLimit = false;
  const parser = parseCsv({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 64 * 1024 });
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > spec.maxBytes && !overLimit) {
      overLimit = true;
      parser.destroy(tooLarge());
    }
  });
  body.pipe(parser);
  const rows: R[] = [];
  let columns: C[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        const names = record.map((h) => h.trim().toLowerCase());
        const unknown = names.findIndex((n) => !(spec.columns as readonly string[]).includes(n));
        if (unknown >= 0) {
          const rule = `must be one of ${spec.columns.join(', ')}`;
          throw new HttpError(400, 'invalid_csv', `CSV header: column ${unknown + 1} "${record[unknown]}" is not one of ${spec.columns.join(', ')}`, [{ field: `header.${unknown}`, rule, value: record[unknown] }]);
        }
        spec.checkHeader(names as C[]);
        columns = names as C[];
        continue;
      }
      if (rows.length >= spec.maxRows) throw new HttpError(413, 'too_many_rows', spec.tooManyRows);
      rows.push(spec.toRow(record, columns));
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (overLimit) throw tooLarge();
    const e = err as { lines?: number; message: string };
    throw new HttpError(400, 'invalid_csv', `CSV line ${e.lines ?? '?'}: ${e.message}`);
  }
  if (!columns) throw new HttpError(400, 'invalid_csv', spec.emptyFile);
  if (rows.length === 0) throw new HttpError(400, 'invalid_csv', 'the CSV file has a header but no rows');
  return rows;
}
