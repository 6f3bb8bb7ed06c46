import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { runCli, type CliIo } from '../../cli/main';
import { contactIdOf } from '../../store/models';
import { freshPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { eventually } from '../harness/wait';

/**
 * POST /v1/consents/import against the real stack: thousands of rows in one call, each accepted row a
 * ledger event with its evidence, opted-out contacts and categories skipped, bad rows reported by
 * number, and the import id making a retry change nothing.
 */

jest.setTimeout(240_000);

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const phoneOf = freshPhones('+1206559');
const ROWS = 1500;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'import', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

const dayAgo = () => new Date(Date.now() - 86_400_000).toISOString();
const evidenceOf = (n: number) => ({ method: 'checkout_checkbox', collectedAt: dayAgo(), shown: 'Yes, send me order updates and offers on WhatsApp', where: 'https://shop.example/checkout', reference: `crm-${n}` });
const importIdOf = () => `imp-${randomBytes(5).toString('hex')}`;

async function ledgerSnapshot(): Promise<string> {
  const [events, consents] = await Promise.all([stack.store.consentEvents.find({}).sort({ _id: 1 }).lean(), stack.store.consents.find({}).sort({ _id: 1 }).lean()]);
  return JSON.stringify([events, consents]);
}

async function optOut(phone: string, categories?: string[]): Promise<void> {
  const r = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, categories, reason: 'said STOP to the shop', source: { kind: 'agent' } });
  expect(r.status).toBe(202);
  const expected = categories?.length ?? 3;
  await eventually(`the opt-out of ${phone}`, async () => (await stack.store.consents.countDocuments({ contactId: contactIdOf('acme', phone), status: 'opted_out' })) === expected, 30_000);
}

test('thousands of rows: accepted rows become ledger events with their proof; opted-out contacts and categories are skipped; bad rows are reported', async () => {
  const stopped = phoneOf();
  const noOffers = phoneOf();
  await optOut(stopped);
  await optOut(noOffers, ['offers']);

  const good = Array.from({ length: ROWS }, () => phoneOf());
  const rows: Record<string, unknown>[] = good.map((phone, i) => ({ phone, categories: ['order_updates', 'offers'], evidence: evidenceOf(i) }));
  rows.push({ phone: stopped, categories: ['order_updates'], evidence: evidenceOf(9001) });
  rows.push({ phone: noOffers, categories: ['order_updates', 'offers'], evidence: evidenceOf(9002) });
  rows.push({ phone: 'not a phone', categories: ['offers'], evidence: evidenceOf(9003) });
  rows.push({ phone: phoneOf(), categories: ['lottery'], evidence: evidenceOf(9004) });
  rows.push({ phone: phoneOf(), categories: ['offers'], evidence: { ...evidenceOf(9005), collectedAt: new Date(Date.now() + 86_400_000).toISOString() } });
  rows.push({ phone: phoneOf(), categories: ['offers'], evidence: { ...evidenceOf(9006), shown: '' } });
  const importId = importIdOf();

  const r = await stack.request('POST', '/v1/consents/import', { businessId: 'acme', importId, rows });
  expect(r.status).toBe(201);
  expect(r.body.counts).toEqual({ total: ROWS + 6, accepted: ROWS + 1, skipped: 1, invalid: 4, events: ROWS * 2 + 1 });
  const byRow = (n: number) => r.body.rows[n - 1];
  expect(byRow(ROWS + 1)).toMatchObject({ outcome: 'skipped', reason: 'opted_out' });
  expect(byRow(ROWS + 2)).toMatchObject({ outcome: 'accepted', categories: ['order_updates'], skippedCategories: ['offers'] });
  expect(byRow(ROWS + 3)).toMatchObject({ outcome: 'invalid', detail: expect.stringContaining('phone') });
  expect(byRow(ROWS + 4)).toMatchObject({ outcome: 'invalid', detail: expect.stringContaining('"lottery"') });
  expect(byRow(ROWS + 5)).toMatchObject({ outcome: 'invalid', detail: expect.stringContaining('evidence.collectedAt: must not be in the future') });
  expect(byRow(ROWS + 6)).toMatchObject({ outcome: 'invalid', detail: expect.stringContaining('evidence.shown') });

  // The ledger: one event per accepted category, with the row's evidence and the key as actor.
  expect(await stack.store.consentEvents.countDocuments({ 'proof.importId': importId })).toBe(ROWS * 2 + 1);
  const sample = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(good[7])}`);
  expect(sample.body.categories.filter((c: any) => c.status === 'opted_in').map((c: any) => c.category).sort()).toEqual(['offers', 'order_updates']);
  const event = sample.body.events.find((e: any) => e.category === 'offers');
  expect(event).toMatchObject({ type: 'opted_in', actor: { kind: 'api_key', keyId: expect.stringMatching(/^api-keys\./) } });
  expect(event.proof).toMatchObject({ method: 'import', importedMethod: 'checkout_checkbox', shown: 'Yes, send me order updates and offers on WhatsApp', where: 'https://shop.example/checkout', reference: 'crm-7', importId, row: 8 });

  // Never an opt-in over a STOP: the contact who opted out of everything, and the category opted out of, stay out.
  const stillOut = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(stopped)}`);
  expect(stillOut.body.messaging).toBe('opted_out');
  expect(stillOut.body.categories.every((c: any) => c.status === 'opted_out')).toBe(true);
  const partly = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(noOffers)}`);
  expect(Object.fromEntries(partly.body.categories.map((c: any) => [c.category, c.status]))).toMatchObject({ offers: 'opted_out', order_updates: 'opted_in' });

  // A retry with the same id changes nothing and answers the same report; the same id with other rows is refused.
  const before = await ledgerSnapshot();
  const again = await stack.request('POST', '/v1/consents/import', { businessId: 'acme', importId, rows });
  expect(again.status).toBe(200);
  expect(again.body.existing).toBe(true);
  expect(again.body.counts).toEqual(r.body.counts);
  expect(again.body.rows).toEqual(r.body.rows);
  const other = await stack.request('POST', '/v1/consents/import', { businessId: 'acme', importId, rows: rows.slice(0, 10) });
  expect(other.status).toBe(409);
  expect(other.body.issues[0]).toMatchObject({ field: 'importId', value: importId });
  expect(await ledgerSnapshot()).toBe(before);
});

test('a CSV import through the CLI; importing the same file again changes nothing', async () => {
  const phones = [phoneOf(), phoneOf(), phoneOf()];
  const csv = [
    'phone,categories,method,collected_at,shown,where,reference',
    `${phones[0]},offers;order_updates,paper_form,${dayAgo()},"I agree to receive offers, and order updates, on WhatsApp",Store 12,form-1`,
    `${phones[1]},offers,paper_form,${dayAgo()},I agree to receive offers on WhatsApp,Store 12,form-2`,
    `${phones[2]},offers,paper_form,not-a-date,I agree,Store 12,form-3`,
  ].join('\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-import-'));
  const file = path.join(dir, 'consents.csv');
  writeFileSync(file, csv);
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => out.push(t), env: {}, interactive: false };
  const args = ['--api-url', stack.apiUrl, '--api-key', stack.apiKey, '--json', 'consents', 'import', file, '--business', 'acme'];

  expect(await runCli(args, io)).toBe(0);
  const first = JSON.parse(out.join(''));
  expect(first.counts).toEqual({ total: 3, accepted: 2, skipped: 0, invalid: 1, events: 3 });
  expect(first.rows[2]).toMatchObject({ row: 3, outcome: 'invalid', detail: expect.stringContaining('evidence.collectedAt') });
  const consents = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phones[0])}`);
  expect(consents.body.events.find((e: any) => e.category === 'offers').proof).toMatchObject({ shown: 'I agree to receive offers, and order updates, on WhatsApp', where: 'Store 12', reference: 'form-1' });

  const before = await ledgerSnapshot();
  out.length = 0;
  expect(await runCli(args, io)).toBe(0);
  const second = JSON.parse(out.join(''));
  expect(second).toMatchObject({ existing: true, importId: first.importId, counts: first.counts });
  expect(await ledgerSnapshot()).toBe(before);
});

test('bad input is a 400 naming the field before anything is written', async () => {
  const before = await ledgerSnapshot();
  const noId = await stack.request('POST', '/v1/consents/import', { businessId: 'acme', rows: [{ phone: phoneOf() }] });
  expect(noId.status).toBe(400);
  expect(noId.body.issues.map((i: any) => i.field)).toContain('importId');
  const badHeader = await fetch(`${stack.apiUrl}/v1/consents/import?businessId=acme&importId=${importIdOf()}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' },
    body: 'phone,categories,colour\n+14155550100,offers,red\n',
  });
  expect(badHeader.status).toBe(400);
  expect(((await badHeader.json()) as any).message).toContain('"colour"');
  const unknownBusiness = await stack.request('POST', '/v1/consents/import', { businessId: 'nobody', importId: importIdOf(), rows: [{ phone: phoneOf() }] });
  expect(unknownBusiness.status).toBe(400);
  expect(await ledgerSnapshot()).toBe(before);
});
