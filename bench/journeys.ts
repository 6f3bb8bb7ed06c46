import { argValue, mapLimit, percentile, startBenchStack } from './stack';

/**
 * npm run bench:journeys -- [--count 1000] [--concurrency 32]
 * Starts N SMS journeys through the API, answers YES to each through the carrier's signed webhook,
 * and prints throughput, latencies and the worker's peak memory. Not a test: it asserts nothing.
 */
async function main(): Promise<void> {
  const count = argValue('count', 1000);
  const concurrency = argValue('concurrency', 32);
  const stack = await startBenchStack();
  const phones = Array.from({ length: count }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
  try {
    console.log(`bench:journeys: ${count} journeys, ${concurrency} concurrent API calls`);
    const startedAt = new Map<string, number>();
    const consentAt = new Map<string, number>();
    let confirmed = 0;
    const t0 = Date.now();
    await mapLimit(phones, concurrency, async (phone) => {
      startedAt.set(phone, Date.now());
      const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '10m' }] });
      if (r.status !== 202) throw new Error(`start ${phone}: ${r.status} ${JSON.stringify(r.body)}`);
    });
    const acceptedMs = Date.now() - t0;

    const requestAt = new Map<string, number>();
    const progress = setInterval(() => console.log(`  ${requestAt.size}/${count} requests at the carrier, ${confirmed}/${count} confirmed`), 5000);
    await stack.carrier.waitFor(() => {
      for (const m of stack.carrier.messages({ channel: 'sms' })) if (!requestAt.has(m.contact)) requestAt.set(m.contact, Date.parse(m.createdAt));
      return requestAt.size >= count;
    }, 600_000);
    const allSentMs = Math.max(...requestAt.values()) - t0;

    const repliedAt = new Map<string, number>();
    const tReply = Date.now();
    await mapLimit(phones, concurrency, async (phone) => {
      repliedAt.set(phone, Date.now());
      const r = await stack.carrier.sendInbound({ from: phone, to: '+15005550006', body: 'YES' });
      if (r.status !== 200) throw new Error(`reply ${phone}: webhook answered ${r.status}`);
    });
    // The WhatsApp confirmation follows the consent write: once every contact has one, read when each consent was written.
    await stack.carrier.waitFor(() => {
      confirmed = new Set(stack.carrier.messages({ channel: 'whatsapp' }).map((m) => m.contact)).size;
      return confirmed >= count;
    }, 600_000);
    clearInterval(progress);
    const confirmedMs = Date.now() - tReply;
    for (const c of await stack.store.consents.find({}).lean()) consentAt.set(c.phone, new Date(c.createdAt as Date).getTime());

    const toRequest = phones.map((p) => (requestAt.get(p) ?? NaN) - (startedAt.get(p) ?? NaN));
    const toConsent = phones.map((p) => (consentAt.get(p) ?? NaN) - (repliedAt.get(p) ?? NaN));
    const rss = stack.peakRssMiB();
    console.log('');
    console.log(`journeys started (API accepted)   ${count} in ${(acceptedMs / 1000).toFixed(1)} s = ${(count / (acceptedMs / 1000)).toFixed(1)} journeys/s`);
    console.log(`opt-in requests at the carrier    ${count} in ${(allSentMs / 1000).toFixed(1)} s = ${(count / (allSentMs / 1000)).toFixed(1)} journeys/s`);
    console.log(`start -> request sent             p50 ${percentile(toRequest, 50)} ms   p99 ${percentile(toRequest, 99)} ms`);
    console.log(`reply -> consent recorded         p50 ${percentile(toConsent, 50)} ms   p99 ${percentile(toConsent, 99)} ms   (consent documents' createdAt)`);
    console.log(`all ${count} WhatsApp confirmations sent ${(confirmedMs / 1000).toFixed(1)} s after the first reply`);
    console.log(`peak RSS MiB                      worker ${rss.worker}   api ${rss.api}   temporal ${rss.temporal ?? 'external'}   bench+carrier ${rss.bench}`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
