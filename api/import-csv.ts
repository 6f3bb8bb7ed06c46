import type { Readable } from 'node:stream';
import { IMPORT_CSV_COLUMNS, MAX_IMPORT_CSV_BYTES, MAX_IMPORT_ROWS, type ImportCsvColumn, type RawImportRow } from '../domain/consent-import';
import { readCsvTable } from './csv-reader';
import { HttpError } from './errors';

const REQUIRED: readonly ImportCsvColumn[] = ['phone', 'categories', 'method', 'collected_at', 'shown', 'reference'];

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
export function readImportCsv(body: Readable): Promise<RawImportRow[]> {
  return readCsvTable<ImportCsvColumn, RawImportRow>(body, {
    columns: IMPORT_CSV_COLUMNS,
    maxBytes: MAX_IMPORT_CSV_BYTES,
    maxRows: MAX_IMPORT_ROWS,
    tooManyRows: `the CSV file has more than ${MAX_IMPORT_ROWS} rows; split it into several imports`,
    emptyFile: `the CSV file is empty: it needs a header line with the columns ${REQUIRED.join(', ')}`,
    checkHeader(names) {
      const missing = REQUIRED.filter((r) => !names.includes(r));
      if (missing.length) throw new HttpError(400, 'invalid_csv', `CSV header: the columns ${missing.join(', ')} are required`, [{ field: 'header', rule: `must have the columns ${REQUIRED.join(', ')}`, value: missing.join(',') }]);
    },
    toRow: rowOf,
  });
}
