import type { Readable } from 'node:stream';
import { CSV_COLUMNS, MAX_CAMPAIGN_ROWS, MAX_CSV_BYTES, type CsvColumn } from '../domain/campaign';
import type { RawRow } from '../domain/campaign-rows';
import { readCsvTable } from './csv-reader';
import { HttpError } from './errors';

/** Reads a campaign's CSV body as it streams in: checks the header, the size and the row count. */
export function readCsvRows(body: Readable): Promise<RawRow[]> {
  return readCsvTable<CsvColumn, RawRow>(body, {
    columns: CSV_COLUMNS,
    maxBytes: MAX_CSV_BYTES,
    maxRows: MAX_CAMPAIGN_ROWS,
    tooManyRows: `the CSV file has more than ${MAX_CAMPAIGN_ROWS} rows`,
    emptyFile: 'the CSV file is empty: it needs a header line with at least a "phone" column',
    checkHeader(names) {
      const repeated = names.find((n, k) => names.indexOf(n) !== k);
      if (repeated) throw new HttpError(400, 'invalid_csv', `CSV header: column "${repeated}" appears twice`, [{ field: 'header', rule: 'must not repeat a column', value: repeated }]);
      if (!names.includes('phone')) throw new HttpError(400, 'invalid_csv', 'CSV header: the "phone" column is required', [{ field: 'header', rule: 'must have a phone column' }]);
    },
    toRow(record, columns) {
      const row: RawRow = {};
      record.forEach((value, k) => {
        const column = columns[k];
        if (column && value !== '') row[column] = value;
      });
      // Extra cells are kept as a count so the row's validation can name them.
      if (record.length > columns.length) row.fieldCount = record.length;
      return row;
    },
  });
}
