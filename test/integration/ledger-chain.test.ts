import { SYSTEM_ACTOR } from '../../domain/access';
import { contentHashOf, GENESIS_HASH, linkHashOf, linkIdOf, linksOf, sealPersonalPart } from '../../store/ledger-chain';
import { sealLedger, verifyLedger } from '../../store/ledger-verify';
import { connectStore, contactIdOf, type Store } from '../../store/models';
import { appendConsentEvent, consentEvent } from '../../store/queries';
import { testMongoUri, uniqueName } from '../harness/servers';

/**
 * The chain against the real MongoDB-compatible server (FerretDB 1.24: no transactions, only `_id`
 * uniqueness): two connections play two worker processes appending for one contact at once, with
 * activity retries of the same event running beside the first attempt.
 */

jest.setTimeout(120_000);

let dbName: string;
let a: Store;
let b: Store;
beforeAll(async () => {
  dbName = uniqueName('db');
  a = await connectStore(testMongoUri(dbName));
  b = await connectStore(testMongoUri(dbName));
});
afterAll(async () => {
  await a?.connection.dropDatabase();
  await a?.connection.close();
  await b?.connection.close();
});

const contactOf = (phone: string) => ({ businessId: 'acme', contactId: contactIdOf('acme', phone), phone });

test('concurrent appends from two processes, each retried while it runs, link every event exactly once', async () => {
  const contact = contactOf('+14155550801');
  const events = Array.from({ length: 24 }, (_, i) =>
    consentEvent(contact, `journey.${i}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2026, 0, 1, 0, 0, i)), { channel: 'sms', reply: `YES ${i}`, shownAt: new Date() }, SYSTEM_ACTOR),
  );
  // Every event is appended by both "processes" at once: the first attempt and its retry.
  await Promise.all(events.flatMap((e, i) => [appendConsentEvent(i % 2 ? a : b, e), appendConsentEvent(i % 2 ? b : a, { ...e, proof: { ...e.proof, attempt: 2 } })]));

  const stored = await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean();
  expect(stored).toHaveLength(events.length);
  expect(stored.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const links = await linksOf(a).find({ contactId: contact.contactId }).sort({ seq: 1 }).toArray();
  expect(links.map((l) => l.eventId).sort()).toEqual(events.map((e) => e._id).sort());
  expect(new Set(links.map((l) => l.eventId)).size).toBe(links.length);
  expect(stored[0].prevHash).toBe(GENESIS_HASH);
  for (let i = 1; i < stored.length; i++) expect(stored[i].prevHash).toBe(stored[i - 1].hash);

  const v = await verifyLedger(a, 'acme');
  expect(v.broken).toEqual([]);
  expect(v.events).toBeGreaterThanOrEqual(events.length);
});

test('an append cut short after its link was written is completed, never linked twice, by its retry or the next append', async () => {
  const contact = contactOf('+14155550802');
  const first = consentEvent(contact, 'optout.sms.SM1:offers:opted_out', 'offers', 'opted_out', new Date(), { keyword: 'STOP' }, SYSTEM_ACTOR);
  await appendConsentEvent(a, first);
  // A process that wrote the event and its link, then died before copying the link onto the event.
  const cut = consentEvent(contact, 'optout.sms.SM2:offers:opted_out', 'offers', 'opted_out', new Date(), { keyword: 'STOP' }, SYSTEM_ACTOR);
  await a.consentEvents.collection.insertOne(sealPersonalPart(cut) as never);
  const storedCut = await a.consentEvents.findById(cut._id).lean();
  const head = await linksOf(a).findOne({ _id: linkIdOf(contact.contactId, 1) });
  await linksOf(a).insertOne({ _id: linkIdOf(contact.contactId, 2), businessId: 'acme', contactId: contact.contactId, seq: 2, eventId: cut._id, prevHash: head!.hash, hash: linkHashOf(2, head!.hash, contentHashOf(storedCut as never)), at: new Date() });

  const next = consentEvent(contact, 'journey.x:offers:opted_in', 'offers', 'opted_in', new Date(), { reply: 'YES' }, SYSTEM_ACTOR);
  await Promise.all([appendConsentEvent(b, cut), appendConsentEvent(a, next), appendConsentEvent(b, cut)]);

  const links = await linksOf(a).find({ contactId: contact.contactId }).sort({ seq: 1 }).toArray();
  expect(links.map((l) => l.eventId)).toEqual([first._id, cut._id, next._id]);
  expect((await a.consentEvents.findById(cut._id).lean())?.seq).toBe(2);
  const v = await verifyLedger(a, 'acme');
  expect(v.broken.filter((x) => x.contactId === contact.contactId)).toEqual([]);
});

test('events written before the chain are reported as legacy until sealed, then verify', async () => {
  const contact = contactOf('+14155550803');
  const old = [0, 1, 2].map((i) => consentEvent(contact, `legacy.${i}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2025, 5, 1 + i)), { channel: 'email', i }, SYSTEM_ACTOR));
  await a.consentEvents.collection.insertMany(old as never[]);

  const before = await verifyLedger(a, 'acme');
  expect(before.legacy).toEqual({ chains: 1, events: 3 });
  expect(before.ok).toBe(true);

  expect((await sealLedger(b, 'acme')).sealed).toBe(3);
  const after = await verifyLedger(a, 'acme');
  expect(after.legacy).toEqual({ chains: 0, events: 0 });
  expect(after.ok).toBe(true);
  const sealed = await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean();
  expect(sealed.map((e) => e._id)).toEqual(old.map((e) => e._id));
  expect((await sealLedger(a, 'acme')).sealed).toBe(0);
});
