import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { contactIdOf } from '../../store/models';
import { cliAgainst } from '../harness/cli';
import { freshPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { eventually } from '../harness/wait';

/**
 * The ledger's hash chains against the real stack: events written by the real workflows (a signed
 * paper consent, then an opt-out), then edited, deleted and reordered directly in MongoDB, as someone
 * with database access would. `ledger verify` (API and CLI) names the first broken link of each chain.
 */

jest.setTimeout(180_000);

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const phoneOf = freshPhones('+1206558');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ledger', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

/** A contact with a chain of at least four events: two opt-ins (signed paper), their confirmations, two opt-outs. */
async function contactWithLedger(): Promise<{ phone: string; contactId: string }> {
  const phone = phoneOf();
  const signed = await stack.request('POST', '/v1/consents/offline', {
    businessId: 'acme',
    phone,
    categories: ['order_updates', 'offers'],
    evidence: { documentRef: `form-${randomBytes(4).toString('hex')}`, signedAt: new Date(Date.now() - 60_000).toISOString(), collectedBy: 'store #7' },
  });
  expect(signed.status).toBe(202);
  await stack.client.workflow.getHandle(signed.body.directConsentId).result();
  const optOut = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone, categories: ['order_updates', 'offers'], reason: 'asked the agent', source: { kind: 'agent' } });
  expect(optOut.status).toBe(202);
  const contactId = contactIdOf('acme', phone);
  await eventually('the opt-out events linked', async () => (await stack.store.consentEvents.countDocuments({ contactId, type: 'opted_out', seq: { $exists: true } })) === 2, 30_000);
  return { phone, contactId };
}

const chainOf = (contactId: string) => stack.store.consentEvents.find({ contactId }).sort({ seq: 1 }).lean();
const raw = () => stack.store.consentEvents.collection;

async function verify(): Promise<any> {
  const r = await stack.request('GET', '/v1/ledger/verify?businessId=acme');
  expect(r.status).toBe(200);
  return r.body;
}

const cli = (args: string[]) => cliAgainst(stack, args);

test('untouched chains verify; edits, deletions and reorderings in MongoDB are each found at their first broken link', async () => {
  const [edited, editedProof, deleted, deletedLast, reordered, untouched] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => contactWithLedger()));
  const all = [edited, editedProof, deleted, deletedLast, reordered, untouched];
  const chains = await Promise.all(all.map((c) => chainOf(c.contactId)));
  for (const chain of chains) {
    expect(chain.length).toBeGreaterThanOrEqual(4);
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
  }
  const eventCount = chains.reduce((n, c) => n + c.length, 0);

  const clean = await verify();
  expect(clean).toMatchObject({ ok: true, brokenChains: 0, broken: [] });
  expect(clean.chains).toBeGreaterThanOrEqual(6);
  expect(clean.events).toBeGreaterThanOrEqual(eventCount);
  const cleanCli = await cli(['ledger', 'verify', '--business', 'acme']);
  expect(cleanCli.code).toBe(0);
  expect(cleanCli.out).toContain(`${clean.chains} chains and ${clean.events} events checked; all links verify`);

  const [ce, cp, cd, cl, cr] = chains;
  // A changed category (content), a changed proof (the personal part), an event removed from the middle and from the end.
  await raw().updateOne({ _id: ce[2]._id } as never, { $set: { category: 'recommendations' } });
  await raw().updateOne({ _id: cp[1]._id } as never, { $set: { 'proof.evidence.collectedBy': 'someone else' } });
  await raw().deleteOne({ _id: cd[1]._id } as never);
  await raw().deleteOne({ _id: cl[cl.length - 1]._id } as never);
  // The first two events swap places, each taking the other's seq and hashes so the chain fields look whole.
  const [r1, r2] = cr;
  await raw().updateOne({ _id: r1._id } as never, { $set: { seq: r2.seq, prevHash: r2.prevHash, hash: r2.hash } });
  await raw().updateOne({ _id: r2._id } as never, { $set: { seq: r1.seq, prevHash: r1.prevHash, hash: r1.hash } });

  const v = await verify();
  expect(v.ok).toBe(false);
  expect(v.brokenChains).toBe(5);
  const brokenOf = (contactId: string) => v.broken.find((b: any) => b.contactId === contactId);
  expect(brokenOf(edited.contactId)).toMatchObject({ seq: 3, eventId: ce[2]._id, problem: 'content_hash_mismatch' });
  expect(brokenOf(editedProof.contactId)).toMatchObject({ seq: 2, eventId: cp[1]._id, problem: 'content_hash_mismatch' });
  expect(brokenOf(deleted.contactId)).toMatchObject({ seq: 2, eventId: cd[1]._id, problem: 'missing_event' });
  expect(brokenOf(deletedLast.contactId)).toMatchObject({ seq: cl.length, eventId: cl[cl.length - 1]._id, problem: 'missing_event' });
  expect(brokenOf(reordered.contactId)).toMatchObject({ seq: 1, eventId: r2._id, problem: 'reordered' });
  expect(brokenOf(untouched.contactId)).toBeUndefined();

  const brokenCli = await cli(['ledger', 'verify', '--business', 'acme']);
  expect(brokenCli.code).toBe(7);
  expect(brokenCli.out).toContain('5 broken');
  for (const c of [edited, editedProof, deleted, deletedLast, reordered]) expect(brokenCli.out).toContain(c.contactId);
  expect(brokenCli.out).not.toContain(untouched.contactId);
  expect(brokenCli.out).toMatch(/missing_event/);
  expect(brokenCli.out).toMatch(/reordered/);
});

test('an edited previous-hash is a broken link, and ledger verify refuses an unknown business by field', async () => {
  const c = await contactWithLedger();
  const chain = await chainOf(c.contactId);
  await raw().updateOne({ _id: chain[1]._id } as never, { $set: { prevHash: 'f'.repeat(64) } });
  const v = await verify();
  expect(v.broken.find((b: any) => b.contactId === c.contactId)).toMatchObject({ seq: 2, eventId: chain[1]._id, problem: 'broken_prev_link' });

  const unknown = await stack.request('GET', '/v1/ledger/verify?businessId=nope');
  expect(unknown.status).toBe(400);
  expect(unknown.body.issues).toEqual([expect.objectContaining({ field: 'businessId', rule: 'must be a configured business' })]);
  const missing = await stack.request('GET', '/v1/ledger/verify');
  expect(missing.status).toBe(400);
  expect(missing.body.issues[0].field).toBe('businessId');
});
