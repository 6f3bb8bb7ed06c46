/**
 * `npm run bench:import -- --rows 5000`: POST /v1/consents/import of N rows (two categories each)
 * against the whole stack, next to a baseline measured in the same run on the same store: the same
 * documents (contacts, ledger events, current consents) written straight to the store in batches of
 * 500, with no API, no checks and no reads. Then the same import again (a retry, which writes nothing).
 * Prints rows/s for each, the ratio import / baseline and the API's peak memory.
 */
import { performance } from 'node:perf_hooks';
import { contactIdOf } from '../store/models';
import { appendConsentEvents, consentEvent, setCurrentConsents } from '../store/queries';
import { startBenchStack } from './stack';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 5000);
const BATCH = 500;
const CATEGORIES = ['order_updates', 'offers'];

const phoneAt = (block: number, i: number) => `+1415${String(block).padStart(3, '0')}${String(i).padStart(4, '0')}`;
const evidence = (i: number) => ({ method: 'checkout_checkbox', collectedAt: new Date(Date.now() - 86_400_000).toISOString(), shown: 'Yes, send me order updates and offers on WhatsApp', where: 'https://shop.example/checkout', reference: `crm-${i}` });

async function main(): Promise<void> {
  if (!Number.isInteger(ROWS) || ROWS < 1 || ROWS > 100_000) throw new Error('--rows must be 1..100000');
  const stack = await startBenchStack();
  try {
    // Baseline: the documents an import writes, straight into the store.
    const t0 = performance.now();
    for (let start = 0; start < ROWS; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, ROWS - start) }, (_, k) => {
        const phone = phoneAt(201, start + k);
        return { phone, contactId: contactIdOf('acme', phone), i: start + k };
      });
      await stack.store.contacts.bulkWrite(batch.map((b) => ({ updateOne: { filter: { _id: b.contactId }, update: { $setOnInsert: { businessId: 'acme', phone: b.phone, messaging: 'allowed' } }, upsert: true } })), { ordered: false });
      const at = new Date(Date.now() - 86_400_000);
      await appendConsentEvents(stack.store, batch.flatMap((b) => CATEGORIES.map((c) => consentEvent({ businessId: 'acme', contactId: b.contactId, phone: b.phone }, `baseline:${b.i}:${c}`, c, 'opted_in', at, { ...evidence(b.i), importedMethod: 'checkout_checkbox', method: 'import' }, { kind: 'api_key', keyId: 'bench' }))));
      await setCurrentConsents(stack.store, batch.flatMap((b) => CATEGORIES.map((c) => ({ businessId: 'acme', contactId: b.contactId, phone: b.phone, category: c, status: 'opted_in' as const, since: at, eventId: `baseline:${b.i}:${c}` }))));
    }
    const baselineS = (performance.now() - t0) / 1000;

    const rows = Array.from({ length: ROWS }, (_, i) => ({ phone: phoneAt(202, i), categories: CATEGORIES, evidence: evidence(i) }));
    const body = { businessId: 'acme', importId: `bench-${Date.now()}`, rows };
    const t1 = performance.now();
    const first = await stack.request('POST', '/v1/consents/import', body);
    const importS = (performance.now() - t1) / 1000;
    if (first.status !== 201) throw new Error(`import answered ${first.status}: ${JSON.stringify(first.body).slice(0, 500)}`);
    const t2 = performance.now();
    const retry = await stack.request('POST', '/v1/consents/import', body);
    const retryS = (performance.now() - t2) / 1000;
    if (retry.status !== 200 || !retry.body.existing) throw new Error(`retry answered ${retry.status}`);

    const rate = (s: number) => Math.round(ROWS / s);
    console.log(`\nbulk consent import, ${ROWS} rows x ${CATEGORIES.length} categories (${first.body.counts.events} ledger events)`);
    console.log('| run | seconds | rows/s |');
    console.log('|---|---|---|');
    console.log(`| baseline: same documents straight to the store, batches of ${BATCH} | ${baselineS.toFixed(1)} | ${rate(baselineS)} |`);
    console.log(`| POST /v1/consents/import | ${importS.toFixed(1)} | ${rate(importS)} |`);
    console.log(`| the same import again (retry, writes nothing) | ${retryS.toFixed(1)} | ${rate(retryS)} |`);
    console.log(`import / baseline rows/s: ${(baselineS / importS).toFixed(2)}; counts ${JSON.stringify(first.body.counts)}; API peak RSS ${stack.peakRssMiB().api} MiB`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
