import type { WorkflowExecutionInfo } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { contactIdOf } from '../../store/models';
import { campaignWorkflowId } from '../../workflows/campaign/contract';
import { journeyWorkflowId, parseJourneyId } from '../../workflows/journey/contract';
import { cliAgainst } from '../harness/cli';
import { freshPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourneyStatus } from '../harness/stack-queries';
import { asText, historyText as historyOf, listRuns, storeMentions as mentionsIn, tracesIn } from '../harness/traces';
import { eventually } from '../harness/wait';

/**
 * Subject-access export and erasure against the real stack. Two people: one who signed a paper
 * consent, was asked by SMS, wrote a message and then STOP; one whose e-mail journey still runs. After
 * erasure, no collection of the database, no visibility record and no history of their workflows holds
 * their phone (E.164, whatsapp:-prefixed, digits only), e-mail or name; the ledger still verifies and
 * the opted-out number stays suppressed.
 */

jest.setTimeout(240_000);

const fastBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.fast.json');
const phoneOf = freshPhones('+1206559');
const ACME_SMS = '+1500555006';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'erase', businessesFile: fastBusinesses });
});
afterAll(async () => {
  await stack?.close();
});

interface Person {
  phone: string;
  email: string;
  name: string;
  contactId: string;
}

function person(): Person {
  const tag = randomBytes(4).toString('hex');
  const phone = phoneOf();
  return { phone, email: `erase-${tag}@example.org`, name: `Quilla Vantreese ${tag}`, contactId: contactIdOf('acme', phone) };
}

const found = tracesIn;
const storeMentions = (p: Person) => mentionsIn(stack, p);
const historyText = (run: { workflowId: string; runId?: string }) => historyOf(stack, run);
const list = (query: string) => listRuns(stack, query);
const cli = (args: string[]) => cliAgainst(stack, args);

/** The person's workflow runs as Temporal lists them, by their tag and by the ids the store knows. */
async function workflowRunsOf(p: Person): Promise<WorkflowExecutionInfo[]> {
  const tagged = await list(`OptinContact = "${p.contactId}"`);
  const byId = await list(`WorkflowId = "${journeyWorkflowId('acme', p.contactId)}"`);
  const inbound = await stack.store.inbound.find({ contactId: p.contactId }).lean();
  const inboundRuns = (await Promise.all(inbound.map((m) => list(`WorkflowId = "inbound.${m._id}"`)))).flat();
  const seen = new Map<string, WorkflowExecutionInfo>();
  for (const r of [...tagged, ...byId, ...inboundRuns]) seen.set(r.runId, r);
  return [...seen.values()];
}

/** Paper consent, an SMS journey, a message of their own, then STOP: opted out of everything. */
async function optedOutPerson(): Promise<Person> {
  const p = person();
  const signed = await stack.request('POST', '/v1/consents/offline', {
    businessId: 'acme',
    phone: p.phone,
    categories: ['order_updates'],
    evidence: { documentRef: `form-${randomBytes(4).toString('hex')}`, signedAt: new Date(Date.now() - 60_000).toISOString(), collectedBy: 'store #7' },
  });
  expect(signed.status).toBe(202);
  await stack.client.workflow.getHandle(signed.body.directConsentId).result();
  const journeyId = await startJourney(stack, { contact: { phone: p.phone, email: p.email, name: p.name }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: p.phone })[0], 15_000);
  await stack.carrier.sendInbound({ from: p.phone, to: ACME_SMS, body: `Who is this? I am ${p.name}, write to ${p.email}` });
  await eventually('their message recorded', () => stack.store.inbound.findOne({ contactId: p.contactId }).lean(), 20_000);
  await stack.carrier.sendInbound({ from: p.phone, to: ACME_SMS, body: 'STOP' });
  await waitForJourneyStatus(stack, journeyId, 'opted_out', 30_000);
  // The journey carried the opt-out (journeyWorkflowV5): no workflow of its own; the confirmation is its last act.
  await eventually('the opt-out recorded and confirmed', async () => {
    const events = await stack.store.consentEvents.find({ contactId: p.contactId, type: 'opted_out', seq: { $exists: true } }).lean();
    return events.length > 0 && stack.carrier.messages({ to: p.phone }).some((m) => m.body.includes('you are unsubscribed'));
  }, 30_000);
  const ids = parseJourneyId(journeyId)!;
  await stack.client.workflow.getHandle(ids.workflowId, ids.runId).result();
  return p;
}

/** An e-mail journey that is still waiting for an answer. */
async function personInJourney(): Promise<Person & { journeyId: string }> {
  const p = person();
  const journeyId = await startJourney(stack, { contact: { phone: p.phone, email: p.email, name: p.name }, categories: ['offers', 'recommendations'], plan: [{ channel: 'email', waitFor: '120s' }] });
  await stack.carrier.waitFor(() => stack.carrier.emails({ to: p.email })[0], 15_000);
  await eventually('the e-mail recorded as sent', () => stack.store.outbox.findOne({ contactId: p.contactId, status: 'sent' }).lean(), 15_000);
  return { ...p, journeyId };
}

test('export holds everything about the person; erasure leaves no trace of them in the store or Temporal, and the ledger verifies', async () => {
  const [out, running] = await Promise.all([optedOutPerson(), personInJourney()]);

  const exported = await cli(['contact', 'export', '--business', 'acme', '--phone', out.phone]);
  expect(exported.code).toBe(0);
  const x = JSON.parse(exported.out);
  expect(x).toMatchObject({ businessId: 'acme', phone: out.phone, contactId: out.contactId, messaging: 'opted_out', contact: { phone: out.phone, email: out.email, name: out.name } });
  expect(x.ledger.events.map((e: any) => e.type)).toEqual(expect.arrayContaining(['opted_in', 'opted_out']));
  expect(x.ledger.events.every((e: any) => typeof e.seq === 'number' && e.proof)).toBe(true);
  expect(x.ledger.links).toHaveLength(x.ledger.events.length);
  expect(x.journeys).toHaveLength(1);
  expect(x.outbox.some((o: any) => o.to === out.phone)).toBe(true);
  expect(x.inbound.some((m: any) => JSON.stringify(m.payload).includes(out.email))).toBe(true);
  expect(x.deliveryReports.length).toBeGreaterThan(0);
  expect(x.consents.map((c: any) => c.status)).toEqual(expect.arrayContaining(['opted_out']));

  // Direct consent and journey (their message and their STOP went straight to it, as signals) of the first; the running journey of the second.
  const runsBefore = await eventually('the workflows listed', async () => {
    const runs = [...(await workflowRunsOf(out)), ...(await workflowRunsOf(running))];
    return runs.length >= 3 && runs;
  }, 20_000);
  expect((await storeMentions(out)).length).toBeGreaterThan(0);
  const historiesBefore = await Promise.all(runsBefore.map((r) => historyText(r)));
  expect(historiesBefore.filter((h) => h !== undefined && found(h, out).length > 0).length).toBeGreaterThan(0);
  expect(historiesBefore.filter((h) => h !== undefined && found(h, running).length > 0).length).toBeGreaterThan(0);

  const erased = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: out.phone, requestId: 'dsr-1001' });
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({ contactId: out.contactId, existing: false, workflows: { terminated: 0 } });
  expect(erased.body.workflows.deleted).toBeGreaterThanOrEqual(2);
  const viaCli = await cli(['contact', 'erase', '--business', 'acme', '--phone', running.phone, '--request-id', 'dsr-1002']);
  expect(viaCli.code).toBe(0);
  expect(viaCli.out).toContain('1 were running and were ended first');

  for (const p of [out, running]) expect(await storeMentions(p)).toEqual([]);
  // Deletion in Temporal runs in the background: poll until neither visibility nor any history has them.
  await eventually('the workflows deleted from Temporal', async () => {
    for (const run of runsBefore) if ((await list(`WorkflowId = "${run.workflowId}"`)).length > 0 || (await historyText(run)) !== undefined) return false;
    return true;
  }, 90_000);
  for (const run of await list(`TaskQueue = "${stack.taskQueue}"`)) {
    const visible = asText(run);
    const history = (await historyText(run)) ?? '';
    for (const p of [out, running]) expect(found(visible + history, p)).toEqual([]);
  }

  const verified = await cli(['ledger', 'verify', '--business', 'acme']);
  expect(verified.code).toBe(0);
  expect(verified.out).toMatch(/all links verify/);
  expect(verified.out).toMatch(/events were erased on request/);

  // The opted-out number stays suppressed; the export now shows only the pseudonymous ledger and when it was erased.
  const again = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: out.phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
  expect(again.status).toBe(409);
  expect(again.body.error).toBe('contact_opted_out');
  const after = await stack.request('GET', `/v1/contacts/export?businessId=acme&phone=${encodeURIComponent(out.phone)}`);
  expect(after.status).toBe(200);
  expect(after.body).toMatchObject({ contact: null, messaging: 'opted_out', erased: { at: expect.any(String) }, journeys: [expect.objectContaining({ erasedAt: expect.any(String) })] });
  expect(after.body.ledger.events.at(-1)).toMatchObject({ type: 'erased', proof: { requestId: 'dsr-1001' } });
  expect(found(JSON.stringify({ ...after.body, phone: undefined }), out)).toEqual([]);

  const repeated = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: out.phone, requestId: 'dsr-1001' });
  expect(repeated.status).toBe(200);
  expect(repeated.body).toMatchObject({ existing: true, eventId: erased.body.eventId });
  expect(await stack.store.consentEvents.countDocuments({ contactId: out.contactId, type: 'erased' })).toBe(1);
});

test('erasure input is checked before anything is touched; a request id reused for another number is a 409', async () => {
  const missing = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: '+14155550100' });
  expect(missing.status).toBe(400);
  expect(missing.body.issues).toEqual([expect.objectContaining({ field: 'requestId' })]);
  const badPhone = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: 'call me', requestId: 'dsr-2' });
  expect(badPhone.status).toBe(400);
  expect(badPhone.body.issues[0].field).toBe('phone');
  const unknown = await stack.request('POST', '/v1/contacts/erase', { businessId: 'nope', phone: '+14155550100', requestId: 'dsr-2' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.issues[0]).toMatchObject({ field: 'businessId', rule: 'must be a configured business' });
  const badExport = await stack.request('GET', '/v1/contacts/export?businessId=acme');
  expect(badExport.status).toBe(400);
  expect(badExport.body.issues[0].field).toBe('phone');

  const first = person();
  expect((await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: first.phone, requestId: 'dsr-3000' })).status).toBe(200);
  const other = person();
  const reused = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: other.phone, requestId: 'dsr-3000' });
  expect(reused.status).toBe(409);
  expect(reused.body.error).toBe('request_id_reused');
  expect(await stack.store.consentEvents.countDocuments({ contactId: other.contactId })).toBe(0);
});

test('a row of a finished campaign is scrubbed, its journey ended and the campaign history deleted; the other rows keep theirs', async () => {
  const [p, other] = [person(), person()];
  const posted = await stack.request('POST', '/v1/campaigns', {
    businessId: 'acme',
    name: 'spring',
    categories: ['offers'],
    plan: [{ channel: 'sms', waitFor: '120s' }],
    contacts: [
      { phone: p.phone, email: p.email, name: p.name },
      { phone: other.phone, email: other.email, name: other.name },
    ],
  });
  expect(posted.status).toBe(202);
  const campaignId = posted.body.campaignId;
  const history = () => historyText({ workflowId: campaignWorkflowId(campaignId), runId: '' });
  await eventually('the campaign to finish starting its journeys', async () => (await stack.request('GET', `/v1/campaigns/${campaignId}`)).body.status === 'completed', 60_000);
  expect((await storeMentions(p)).some((hit) => hit.startsWith('campaign_row_chunks/'))).toBe(true);
  expect(found((await history()) ?? '', p).length).toBeGreaterThan(0);

  const erased = await stack.request('POST', '/v1/contacts/erase', { businessId: 'acme', phone: p.phone, requestId: 'dsr-4000' });
  expect(erased.status).toBe(200);
  expect(erased.body.store.campaign_rows).toBe(1);
  expect(erased.body.workflows.terminated).toBe(1);
  expect(await storeMentions(p)).toEqual([]);
  const rows = await stack.request('GET', `/v1/campaigns/${campaignId}/rows`);
  expect(rows.status).toBe(200);
  expect(rows.body.rows.map((r: any) => r.phone)).toEqual(expect.arrayContaining([other.phone]));
  expect((await storeMentions(other)).length).toBeGreaterThan(0);
  // The campaign's history carried every row it read; it goes, and the campaign's view stays (it is in the store).
  await eventually('the campaign history deleted', async () => (await history()) === undefined, 60_000);
  expect((await stack.request('GET', `/v1/campaigns/${campaignId}`)).body).toMatchObject({ status: 'completed', started: 2 });
});
