import { csvCell, csvCellValue, exportRowOf, trailerLine } from '../../domain/consent-export';

describe('CSV cells of a consent export', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+14155550100', "'+14155550100"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("http://x","a")', `"'=HYPERLINK(""http://x"",""a"")"`],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['line\nbreak', '"line\nbreak"'],
    ['', ''],
  ])('%j is written as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  test('the guard comes off when read back, and only the guard', () => {
    expect(csvCellValue("'+14155550100")).toBe('+14155550100');
    expect(csvCellValue("'quoted")).toBe("'quoted");
  });
});

test('trailers say whether the export is complete', () => {
  expect(trailerLine('ndjson', { rows: 3 })).toBe('{"kind":"end","complete":true,"rows":3}\n');
  expect(JSON.parse(trailerLine('ndjson', { rows: 2, error: 'x' }))).toEqual({ kind: 'error', complete: false, rows: 2, error: 'x' });
  expect(trailerLine('csv', { rows: 3 })).toBe('#end,3\r\n');
  expect(trailerLine('csv', { rows: 2, error: 'store, failed' })).toBe('#error,2,"store, failed"\r\n');
});

test('an opt-out row takes how it happened from the proof; missing proof leaves those columns out', () => {
  const consent = { contactId: 'c_1', phone: '+1', category: 'offers', status: 'opted_out' as const, since: new Date('2026-01-01T00:00:00Z'), lastEventId: 'e1' };
  expect(exportRowOf(consent, { method: 'keyword', channel: 'sms', matchedKeyword: 'stop', keywordLanguage: 'en', optOutId: 'o1' })).toEqual({
    contactId: 'c_1', phone: '+1', category: 'offers', status: 'opted_out', since: '2026-01-01T00:00:00.000Z', eventId: 'e1', method: 'keyword', channel: 'sms', source: 'keyword', keyword: 'stop', keywordLanguage: 'en', optOutId: 'o1',
  });
  expect(exportRowOf(consent, undefined)).toEqual({ contactId: 'c_1', phone: '+1', category: 'offers', status: 'opted_out', since: '2026-01-01T00:00:00.000Z', eventId: 'e1' });
});
