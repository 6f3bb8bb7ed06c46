import { SYSTEM_ACTOR } from '../domain/access';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../dev/free-port';
import { startFerretDb } from '../dev/servers';
import { sealPersonalPart } from '../store/ledger-chain';
import { verifyLedger } from '../store/ledger-verify';
import { connectStore, contactIdOf, type Store } from '../store/models';
import { appendConsentEvent, consentEvent } from '../store/queries';
import { appendByLinkDocuments } from './ledger-links';

/**
 * What the hash chain costs a ledger write, and how fast verification walks a business: the chained
 * append against the plain insert it replaced (the baseline) and against the previous version's append
 * (link documents), measured in the same run on the same server (FerretDB 1.24 started here, or
 * MONGODB_URI); and verification against reading the same events in the same order without checking
 * them. The previous version's chains are verified too: they must still pass.
 *
 *   npm run bench:ledger                      500 contacts x 4 events
 *   LEDGER_CONTACTS=2000 npm run bench:ledger
 */

const CONTACTS = Number(process.env.LEDGER_CONTACTS ?? 500);
const EVENTS_PER_CONTACT = 4;
/** Appends running at once, as activities of several journeys and opt-outs do. */
const CONCURRENCY = 8;

const repoRoot = path.resolve(__dirname, '..');

function eventsFor(businessId: string, n: number) {
  return Array.from({ length: n }, (_, c) => {
    const phone = `+1415${String(5_000_000 + c).padStart(7, '0')}`;
    const contact = { businessId, contactId: contactIdOf(businessId, phone), phone };
    return Array.from({ length: EVENTS_PER_CONTACT }, (_, k) =>
      consentEvent(contact, `bench.${businessId}.${c}.${k}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2026, 0, 1, 0, c % 60, k)), { channel: 'sms', reply: 'YES', journeyId: `journey.${c}`, k }, SYSTEM_ACTOR),
    );
  });
}

/** Runs `write` over every contact's events, CONCURRENCY contacts at a time, a contact's events in order; answers ms. */
async function timed(events: ReturnType<typeof eventsFor>, write: (e: ReturnType<typeof eventsFor>[number][number]) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let c = next++; c < events.length; c = next++) for (const e of events[c]) await write(e);
    }),
  );
  return performance.now() - started;
}

async function main(): Promise<void> {
  let uri = process.env.MONGODB_URI;
  let stop = async () => {};
  if (!uri) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'optinflow-bench-ledger-'));
    const ferret = await startFerretDb({ bin: process.env.FERRETDB_PATH || path.join(repoRoot, '.tools', 'bin', 'ferretdb'), port: await findFreePort(), dataDir: path.join(work, 'ferretdb'), logFile: path.join(work, 'ferretdb.log') });
    uri = ferret.uri;
    stop = () => ferret.stop();
  }
  // Command monitoring counts the round trips each append makes.
  const store: Store = await connectStore(`${uri.replace(/\/?$/, '/')}bench_ledger_${Date.now().toString(36)}?monitorCommands=true`);
  let commands = 0;
  store.connection.getClient().on('commandStarted', () => commands++);
  const counted = async (phase: () => Promise<number>) => {
    const before = commands;
    const ms = await phase();
    return { ms, perEvent: (commands - before) / (CONTACTS * EVENTS_PER_CONTACT) };
  };
  try {
    const total = CONTACTS * EVENTS_PER_CONTACT;
    const { ms: plainMs, perEvent: plainTrips } = await counted(() => timed(eventsFor('plain', CONTACTS), (e) => store.consentEvents.create(sealPersonalPart(e))));
    const { ms: linkDocsMs, perEvent: linkDocsTrips } = await counted(() => timed(eventsFor('linkdocs', CONTACTS), (e) => appendByLinkDocuments(store, e)));
    const { ms: chainedMs, perEvent: chainedTrips } = await counted(() => timed(eventsFor('chained', CONTACTS), (e) => appendConsentEvent(store, e)));
    const readStarted = performance.now();
    let read = 0;
    for await (const _e of store.consentEvents.find({ businessId: 'chained' }).sort({ contactId: 1, seq: 1, _id: 1 }).lean().cursor({ batchSize: 500 })) read += 1;
    const readMs = performance.now() - readStarted;
    const verifyStarted = performance.now();
    const v = await verifyLedger(store, 'chained');
    const verifyMs = performance.now() - verifyStarted;
    if (!v.ok || v.events !== total) throw new Error(`verification did not check every event: ${JSON.stringify(v)}`);
    const previous = await verifyLedger(store, 'linkdocs');
    if (!previous.ok || previous.events !== total) throw new Error(`the previous version's chains do not verify: ${JSON.stringify(previous)}`);

    const perEvent = (ms: number) => (ms / total).toFixed(2);
    console.log(`ledger writes: ${CONTACTS} contacts x ${EVENTS_PER_CONTACT} events, ${CONCURRENCY} at a time`);
    const trips = (n: number) => `${n.toFixed(2)} round trips/event`;
    console.log(`  plain insert (baseline)   ${plainMs.toFixed(0).padStart(7)} ms   ${perEvent(plainMs)} ms/event          ${trips(plainTrips)}`);
    console.log(`  previous chained append   ${linkDocsMs.toFixed(0).padStart(7)} ms   ${perEvent(linkDocsMs)} ms/event   x${(linkDocsMs / plainMs).toFixed(1)}   ${trips(linkDocsTrips)}   (link documents)`);
    console.log(`  chained append            ${chainedMs.toFixed(0).padStart(7)} ms   ${perEvent(chainedMs)} ms/event   x${(chainedMs / plainMs).toFixed(1)}   ${trips(chainedTrips)}   (links on the events; x${(linkDocsMs / chainedMs).toFixed(1)} faster than the previous)`);
    console.log(`ledger verify: ${v.chains} chains, ${v.events} events`);
    console.log(`  read in chain order (baseline) ${readMs.toFixed(0).padStart(7)} ms   ${read} events`);
    console.log(`  verify                         ${verifyMs.toFixed(0).padStart(7)} ms   ${((v.events / verifyMs) * 1000).toFixed(0)} events/s   x${(verifyMs / readMs).toFixed(1)}`);
    console.log(`  the previous version's ${previous.chains} chains (link documents) verify too: ${previous.events} events`);
  } finally {
    await store.connection.dropDatabase();
    await store.connection.close();
    await stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
