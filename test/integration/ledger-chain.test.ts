import { SYSTEM_ACTOR } from '../../domain/access';
import { contentHashOf, GENESIS_HASH, headsOf, linkHashOf, linkIdOf, linksOf, sealPersonalPart } from '../../store/ledger-chain';
import { readHeadAhead } from '../../store/ledger-heads';
import { sealLedger, verifyLedger } from '../../store/ledger-verify';
import { connectStore, contactIdOf, type Store } from '../../store/models';
import { appendConsentEvent, appendConsentEvents, consentEvent } from '../../store/queries';
import { testMongoUri, uniqueName } from '../harness/servers';

/**
 * The chain against the real MongoDB-compatible server (FerretDB 1.24: no transactions): two
 * connections play two worker processes appending for one contact at once, with activity retries of
 * the same event running beside the first attempt; chains the previous version kept in link documents
 * are continued and still verify.
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
  expect(stored.map((e) => e.linkId)).toEqual(events.map((_, i) => linkIdOf(contact.contactId, i + 1)));
  expect(stored.map((e) => e._id).sort()).toEqual(events.map((e) => e._id).sort());
  expect(stored[0]).toMatchObject({ prevHash: GENESIS_HASH, prevEventId: '' });
  for (let i = 1; i < stored.length; i++) expect(stored[i]).toMatchObject({ prevHash: stored[i - 1].hash, prevEventId: stored[i - 1]._id });
  // The first write's content stays: no event holds the retry's proof.
  expect(stored.filter((e) => (e.proof as { attempt?: number }).attempt === 2).length).toBeLessThan(events.length);
  expect(await headsOf(a).findOne({ _id: contact.contactId })).toMatchObject({ seq: events.length, hash: stored[stored.length - 1].hash, eventId: stored[stored.length - 1]._id });
  expect(await linksOf(a).countDocuments({ contactId: contact.contactId })).toBe(0);

  const v = await verifyLedger(a, 'acme');
  expect(v.broken).toEqual([]);
  expect(v.events).toBeGreaterThanOrEqual(events.length);
});

test('a chain the previous version kept in link documents, its last link cut short, is completed once and continued', async () => {
  const contact = contactOf('+14155550802');
  // The previous version: an event linked by link document 1, and one whose link 2 was written but never copied onto it.
  const first = sealPersonalPart(consentEvent(contact, 'optout.sms.SM1:offers:opted_out', 'offers', 'opted_out', new Date(), { keyword: 'STOP' }, SYSTEM_ACTOR));
  const firstHash = linkHashOf(1, GENESIS_HASH, contentHashOf(first as never));
  await a.consentEvents.collection.insertOne({ ...first, seq: 1, prevHash: GENESIS_HASH, hash: firstHash } as never);
  await linksOf(a).insertOne({ _id: linkIdOf(contact.contactId, 1), businessId: 'acme', contactId: contact.contactId, seq: 1, eventId: first._id, prevHash: GENESIS_HASH, hash: firstHash, at: new Date() });
  await headsOf(a).insertOne({ _id: contact.contactId, seq: 1 });
  const cut = consentEvent(contact, 'optout.sms.SM2:offers:opted_out', 'offers', 'opted_out', new Date(), { keyword: 'STOP' }, SYSTEM_ACTOR);
  await a.consentEvents.collection.insertOne(sealPersonalPart(cut) as never);
  const storedCut = await a.consentEvents.findById(cut._id).lean();
  await linksOf(a).insertOne({ _id: linkIdOf(contact.contactId, 2), businessId: 'acme', contactId: contact.contactId, seq: 2, eventId: cut._id, prevHash: firstHash, hash: linkHashOf(2, firstHash, contentHashOf(storedCut as never)), at: new Date() });

  // This version's processes, started after the previous one stopped: the retry of `cut` and the next append race.
  const [c, d] = await Promise.all([connectStore(testMongoUri(dbName)), connectStore(testMongoUri(dbName))]);
  try {
    const next = consentEvent(contact, 'journey.x:offers:opted_in', 'offers', 'opted_in', new Date(), { reply: 'YES' }, SYSTEM_ACTOR);
    expect(await Promise.all([appendConsentEvent(d, cut), appendConsentEvent(c, next), appendConsentEvent(d, cut)])).toEqual(['already', 'written', 'already']);

    const chain = await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean();
    expect(chain.map((e) => [e._id, e.seq])).toEqual([[first._id, 1], [cut._id, 2], [next._id, 3]]);
    expect(chain[1].hash).toBe((await linksOf(a).findOne({ _id: linkIdOf(contact.contactId, 2) }))?.hash);
    expect(chain[2]).toMatchObject({ prevEventId: cut._id, prevHash: chain[1].hash, linkId: linkIdOf(contact.contactId, 3) });
    expect(await linksOf(a).countDocuments({ contactId: contact.contactId })).toBe(2);
    const v = await verifyLedger(a, 'acme');
    expect(v.broken.filter((x) => x.contactId === contact.contactId)).toEqual([]);
  } finally {
    await Promise.all([c.connection.close(), d.connection.close()]);
  }
});

test('a head hint left behind (a process stopped after its insert) is passed by the next append, and a deleted last event is found by it', async () => {
  const contact = contactOf('+14155550804');
  const eventOf = (i: number) => consentEvent(contact, `journey.h${i}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2026, 1, 1, 0, 0, i)), { reply: 'YES' }, SYSTEM_ACTOR);
  for (const i of [0, 1, 2]) await appendConsentEvent(a, eventOf(i));
  const firstOnly = (await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean())[0];
  await headsOf(a).updateOne({ _id: contact.contactId }, { $set: { seq: 1, hash: firstOnly.hash as string, eventId: firstOnly._id } });

  const fresh = await connectStore(testMongoUri(dbName));
  try {
    expect(await appendConsentEvent(fresh, eventOf(3))).toBe('written');
  } finally {
    await fresh.connection.close();
  }
  const chain = await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean();
  expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  expect(chain[3]).toMatchObject({ _id: eventOf(3)._id, prevEventId: chain[2]._id });
  expect((await verifyLedger(a, 'acme')).broken.filter((x) => x.contactId === contact.contactId)).toEqual([]);

  await a.consentEvents.collection.deleteOne({ _id: chain[3]._id } as never);
  const v = await verifyLedger(a, 'acme');
  expect(v.broken.filter((x) => x.contactId === contact.contactId)).toEqual([expect.objectContaining({ seq: 4, eventId: chain[3]._id, problem: 'missing_event' })]);
  // Put back as it was, so the other tests' verifications see an unbroken ledger.
  await a.consentEvents.collection.insertOne(chain[3] as never);
});

test("a head hint left for this process's next append is written once with it, and another process's append in between still links in order", async () => {
  const contact = contactOf('+14155550805');
  const eventOf = (i: number) => consentEvent(contact, `journey.n${i}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2026, 2, 1, 0, 0, i)), { reply: 'YES' }, SYSTEM_ACTOR);
  await appendConsentEvents(a, [eventOf(0)], { headHint: 'with_next' });
  expect(await headsOf(a).findOne({ _id: contact.contactId })).toBeNull();
  await appendConsentEvents(a, [eventOf(1)]);
  expect(await headsOf(a).findOne({ _id: contact.contactId })).toMatchObject({ seq: 2, eventId: eventOf(1)._id });

  // Left for the next append, which another process overtakes: b finds the stale hint, a its own memory behind b's event.
  await appendConsentEvents(a, [eventOf(2)], { headHint: 'with_next' });
  await appendConsentEvents(b, [eventOf(3)]);
  await appendConsentEvents(a, [eventOf(4)]);
  const chain = await a.consentEvents.find({ contactId: contact.contactId }).sort({ seq: 1 }).lean();
  expect(chain.map((e) => e._id)).toEqual([0, 1, 2, 3, 4].map((i) => eventOf(i)._id));
  expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  expect(await headsOf(a).findOne({ _id: contact.contactId })).toMatchObject({ seq: 5, eventId: eventOf(4)._id });
  expect((await verifyLedger(a, 'acme')).broken.filter((x) => x.contactId === contact.contactId)).toEqual([]);
});

test('an append starts from the head read ahead for it, and passes one another process moved meanwhile', async () => {
  // A business of its own: the head hint planted below is not a real one, and no other test verifies this business.
  const contactFor = (phone: string) => ({ businessId: 'ahead', contactId: contactIdOf('ahead', phone), phone });
  const eventOf = (c: ReturnType<typeof contactFor>, i: number) => consentEvent(c, `journey.a${c.phone.slice(-2)}${i}:offers:opted_in`, 'offers', 'opted_in', new Date(Date.UTC(2026, 3, 1, 0, 0, i)), { reply: 'YES' }, SYSTEM_ACTOR);

  // Read while the chain is empty; a hint that appears after the read is not seen by the append.
  const first = contactFor('+14155550806');
  await readHeadAhead(a, first.contactId);
  await headsOf(a).insertOne({ _id: first.contactId, seq: 7, hash: 'f'.repeat(64), eventId: 'planted' } as never);
  await appendConsentEvent(a, eventOf(first, 0));
  expect(await a.consentEvents.findById(eventOf(first, 0)._id).lean()).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, prevEventId: '' });

  // Read ahead, then overtaken by the other process: the append is refused its position and links after b's event.
  const second = contactFor('+14155550807');
  await readHeadAhead(a, second.contactId);
  await appendConsentEvent(b, eventOf(second, 0));
  expect(await appendConsentEvent(a, eventOf(second, 1))).toBe('written');
  const chain = await a.consentEvents.find({ contactId: second.contactId }).sort({ seq: 1 }).lean();
  expect(chain.map((e) => [e._id, e.seq])).toEqual([
    [eventOf(second, 0)._id, 1],
    [eventOf(second, 1)._id, 2],
  ]);
  expect(chain[1]).toMatchObject({ prevEventId: chain[0]._id, prevHash: chain[0].hash });
  expect((await verifyLedger(a, 'ahead')).broken.filter((x) => x.contactId === second.contactId)).toEqual([]);
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
