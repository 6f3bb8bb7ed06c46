import { SYSTEM_ACTOR } from '../../domain/access';
import { runCli, type CliIo } from '../../cli/main';
import { EXIT } from '../../cli/client';
import { csvCellValue, EXPORT_COLUMNS } from '../../domain/consent-export';
import { consentExport } from '../../services/exports';
import { connectStore, contactIdOf } from '../../store/models';
import { appendConsentEvents, consentEvent, setCurrentConsents, type CurrentConsentChange } from '../../store/queries';
import { numberedPhones, waitForConsents } from '../harness/contact';
import { testMongoUri } from '../harness/servers';
import { startTestStack, type TestStack } from '../harness/stack';

/**
 * GET /v1/consents/export and `optinflow consents export` over a ledger seeded the way the activities
 * write it (events with their proof, then the current consent), more than two store batches of it,
 * plus one opt-out that goes the whole real way (a STOP through the carrier, the webhook, the opt-out
 * workflow). Every row is compared field by field with what was seeded.
 */

jest.setTimeout(180_000);

const ACME_SMS = '+15005550006';
const OPTED_IN = 1_203;
const OPTED_OUT = 40;
const DAY_MS = 86_400_000;
const phoneNo = numberedPhones(0);

let stack: TestStack;
const now = Date.now();
const expectedOptIns: Record<string, string>[] = [];
const expectedOptOuts: Record<string, string>[] = [];
let stopPhone: string;

const sorted = (rows: Record<string, string>[]) => [...rows].sort((a, b) => (`${a.contactId}:${a.category}` < `${b.contactId}:${b.category}` ? -1 : 1));

async function seed(): Promise<void> {
  const events = [];
  const consents: CurrentConsentChange[] = [];
  for (let i = 0; i < OPTED_IN + OPTED_OUT; i++) {
    const phone = phoneNo(i);
    const contactId = contactIdOf('acme', phone);
    const contact = { businessId: 'acme', contactId, phone };
    const at = new Date(now - (i % 60) * DAY_MS - 1000);
    if (i < OPTED_IN) {
      const journeyId = `journey.acme.${contactId}:run-${i}`;
      const eventId = `${journeyId}:offers:opted_in`;
      // A campaign reference a spreadsheet would run as a formula.
      const reference = i % 7 === 0 ? `=HYPERLINK("http://x.test/${i}","go")` : `list-${i}`;
      events.push(consentEvent(contact, eventId, 'offers', 'opted_in', at, { method: 'sms_reply', channel: 'sms', journeyId, source: { kind: 'campaign', reference }, inbound: { Body: 'YES' } }, SYSTEM_ACTOR));
      // Half the consents keep their proof's export fields, as the product writes them now; the other half
      // are as consents written before that, which the export joins to the ledger. Both give the same rows.
      consents.push({ ...contact, category: 'offers', status: 'opted_in', since: at, eventId, journeyId, ...(i % 2 === 0 ? { proof: events[events.length - 1].proof } : {}) });
      expectedOptIns.push({ contactId, phone, category: 'offers', status: 'opted_in', since: at.toISOString(), eventId, method: 'sms_reply', channel: 'sms', source: 'campaign', reference, journeyId });
      // The same contacts' other category is not part of the offers segment.
      if (i % 3 === 0) {
        const otherId = `${journeyId}:order_updates:opted_in`;
        events.push(consentEvent(contact, otherId, 'order_updates', 'opted_in', at, { method: 'sms_reply', channel: 'sms', journeyId }, SYSTEM_ACTOR));
        consents.push({ ...contact, category: 'order_updates', status: 'opted_in', since: at, eventId: otherId, journeyId });
      }
    } else {
      const optOutId = `optout.sms.SM${String(i).padStart(32, '0')}`;
      for (const category of ['offers', 'order_updates']) {
        const eventId = `${optOutId}:${category}:opted_out`;
        const keyword = i % 2 === 0 ? 'stop' : '@stop';
        events.push(consentEvent(contact, eventId, category, 'opted_out', at, { method: 'keyword', channel: 'sms', text: 'STOP', matchedKeyword: keyword, keywordLanguage: 'en', reference: 'SM1', optOutId }, SYSTEM_ACTOR));
        consents.push({ ...contact, category, status: 'opted_out', since: at, eventId, ...(i % 2 === 0 ? { proof: events[events.length - 1].proof } : {}) });
        expectedOptOuts.push({ contactId, phone, category, status: 'opted_out', since: at.toISOString(), eventId, method: 'keyword', channel: 'sms', source: 'keyword', reference: 'SM1', keyword, keywordLanguage: 'en', optOutId });
      }
    }
  }
  // Another business's opt-outs never show in acme's list.
  const other = { businessId: 'globex', contactId: contactIdOf('globex', phoneNo(1)), phone: phoneNo(1) };
  events.push(consentEvent(other, 'optout.globex:offers:opted_out', 'offers', 'opted_out', new Date(now - 1000), { method: 'api', channel: 'api' }, SYSTEM_ACTOR));
  consents.push({ ...other, category: 'offers', status: 'opted_out', since: new Date(now - 1000), eventId: 'optout.globex:offers:opted_out' });
  for (let i = 0; i < events.length; i += 1000) await appendConsentEvents(stack.store, events.slice(i, i + 1000));
  for (let i = 0; i < consents.length; i += 1000) await setCurrentConsents(stack.store, consents.slice(i, i + 1000));
}

async function exportText(query: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${stack.apiUrl}/v1/consents/export?${query}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function parseNdjson(text: string): { rows: Record<string, string>[]; trailer: any } {
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
  const trailer = lines.pop();
  return { rows: lines.map(({ kind, ...row }) => (expect(kind).toBe('consent'), row)), trailer };
}

/** RFC 4180 reader (quoted cells with "" inside), enough for the export. */
function parseCsv(text: string): { header: string[]; rows: string[][]; trailer: string[] } {
  const records: string[][] = [];
  let cell = '';
  let record: string[] = [];
  let quoted = false;
  const endCell = () => {
    record.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\r' && text[i + 1] === '\n') {
      endCell();
      records.push(record);
      record = [];
      i++;
    } else cell += c;
  }
  expect(cell).toBe('');
  const [header, ...rest] = records;
  const trailer = rest.pop()!;
  return { header, rows: rest, trailer };
}

const csvObjects = (header: string[], rows: string[][]) => rows.map((r) => Object.fromEntries(header.map((h, i) => [h, csvCellValue(r[i])]).filter(([, v]) => v !== '')));

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'export' });
  await seed();
  // One opt-out the real way, to show the export reads what the product writes.
  stopPhone = phoneNo(9000);
  await stack.carrier.sendInbound({ from: stopPhone, to: ACME_SMS, body: 'STOP' });
  await waitForConsents(stack, stopPhone, (c) => c.events.filter((e: any) => e.type === 'opted_out').length === 3, 30_000);
});

afterAll(async () => {
  await stack?.close();
});

test('the opted-in segment of a category as NDJSON: every seeded row, exactly, across store batches, then the end trailer', async () => {
  const r = await exportText('businessId=acme&status=opted_in&category=offers&format=ndjson');
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^application\/x-ndjson/);
  const { rows, trailer } = parseNdjson(r.text);
  expect(trailer).toEqual({ kind: 'end', complete: true, rows: OPTED_IN });
  expect(rows).toEqual(sorted(expectedOptIns));
});

test('the opt-out list as CSV: when and how, formula cells neutralised, real STOP included, other business left out', async () => {
  const r = await exportText('businessId=acme&status=opted_out&format=csv');
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/csv/);
  const { header, rows, trailer } = parseCsv(r.text);
  expect(header).toEqual([...EXPORT_COLUMNS]);
  const objects = csvObjects(header, rows);
  const stopContact = contactIdOf('acme', stopPhone);
  const real = objects.filter((o) => o.contactId === stopContact);
  expect(real.map((o) => o.category).sort()).toEqual(['offers', 'order_updates', 'recommendations']);
  for (const o of real) expect(o).toMatchObject({ phone: stopPhone, status: 'opted_out', method: 'keyword', channel: 'sms', keyword: 'stop', keywordLanguage: 'en' });
  expect(objects.filter((o) => o.contactId !== stopContact)).toEqual(sorted(expectedOptOuts));
  expect(trailer).toEqual(['#end', String(expectedOptOuts.length + 3)]);
  // Every phone cell starts with + and every "@stop" keyword with @: none may reach a spreadsheet as a formula.
  for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
  expect(r.text).toContain("'@stop");
  expect(r.text).toContain(`'${stopPhone}`);
});

test('since and until select by when the status took effect; category narrows the opt-out list', async () => {
  const since = new Date(now - 10 * DAY_MS);
  const until = new Date(now - 2 * DAY_MS);
  const r = await exportText(`businessId=acme&status=opted_in&category=offers&since=${since.toISOString()}&until=${until.toISOString()}`);
  const { rows, trailer } = parseNdjson(r.text);
  const expected = sorted(expectedOptIns.filter((e) => new Date(e.since) >= since && new Date(e.since) < until));
  expect(expected.length).toBeGreaterThan(100);
  expect(rows).toEqual(expected);
  expect(trailer.rows).toBe(expected.length);

  const byCategory = parseNdjson((await exportText('businessId=acme&status=opted_out&category=order_updates')).text);
  expect(byCategory.rows.filter((o) => o.contactId !== contactIdOf('acme', stopPhone))).toEqual(sorted(expectedOptOuts.filter((e) => e.category === 'order_updates')));
  expect(byCategory.trailer.rows).toBe(OPTED_OUT + 1);
});

test('bad queries are 400s naming the field and the rule, before any read', async () => {
  const cases: [string, string, RegExp][] = [
    ['businessId=acme&category=offers', 'status', /opted_in/],
    ['businessId=acme&status=opted_in', 'category', /required with status=opted_in/],
    ['businessId=acme&status=opted_in&category=nope', 'category.0', /unknown category/],
    ['businessId=nope&status=opted_out', 'businessId', /configured business/],
    ['businessId=acme&status=opted_out&since=yesterday', 'since', /must be a date/],
    ['businessId=acme&status=opted_out&since=2025-06-02&until=2025-06-01', 'since', /before until/],
    ['businessId=acme&status=opted_out&format=xlsx', 'format', /ndjson|csv/],
  ];
  for (const [query, field, rule] of cases) {
    const r = await stack.request('GET', `/v1/consents/export?${query}`);
    expect({ query, status: r.status }).toEqual({ query, status: 400 });
    const issue = r.body.issues.find((i: any) => i.field === field);
    expect({ query, rule: issue?.rule }).toEqual({ query, rule: expect.stringMatching(rule) });
  }
});

test('optinflow consents export writes the same CSV to stdout and exits 0', async () => {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => undefined, env: {}, interactive: false };
  const code = await runCli(['consents', 'export', '--business', 'acme', '--category', 'offers', '--status', 'opted_in', '--format', 'csv', '--api-url', stack.apiUrl, '--api-key', stack.apiKey], io);
  expect(code).toBe(EXIT.ok);
  const { header, rows, trailer } = parseCsv(out.join(''));
  expect(csvObjects(header, rows)).toEqual(sorted(expectedOptIns));
  expect(trailer).toEqual(['#end', String(OPTED_IN)]);
});

test('a store that fails midway ends the export with the error trailer, never a list that looks complete', async () => {
  // Its own connection, so closing it fails this export only.
  const failing = await connectStore(testMongoUri(stack.dbName));
  const logged: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (_o: object, msg: string) => logged.push(msg) };
  const chunks: string[] = [];
  for await (const chunk of consentExport({ store: failing, businesses: stack.businesses }, { businessId: 'acme', status: 'opted_in', category: 'offers', format: 'ndjson' }, log, 200)) {
    chunks.push(chunk);
    if (chunks.length === 2) await failing.connection.close(true);
  }
  const { rows, trailer } = parseNdjson(chunks.join(''));
  expect(rows.length).toBe(400);
  expect(rows).toEqual(sorted(expectedOptIns).slice(0, 400));
  expect(trailer).toMatchObject({ kind: 'error', complete: false, rows: 400 });
  expect(logged).toEqual(['consent export stopped: the store failed']);
});

test('a consent that keeps its proof\'s export fields is exported from them, with no ledger read', async () => {
  const phone = phoneNo(0);
  const _id = `${contactIdOf('acme', phone)}:offers`;
  const consents = stack.store.connection.collection('consents');
  const kept = (await consents.findOne({ _id: _id as never }))!.proofSummary;
  expect(kept).toMatchObject({ method: 'sms_reply', channel: 'sms' });
  // Only the consent's copy changes: a row that still read the ledger would say sms_reply.
  await consents.updateOne({ _id: _id as never }, { $set: { 'proofSummary.method': 'copied_from_consent' } });
  try {
    const { rows } = parseNdjson((await exportText('businessId=acme&status=opted_in&category=offers&format=ndjson')).text);
    expect(rows.find((r) => r.phone === phone)).toMatchObject({ method: 'copied_from_consent', channel: 'sms' });
  } finally {
    await consents.updateOne({ _id: _id as never }, { $set: { proofSummary: kept } });
  }
});
