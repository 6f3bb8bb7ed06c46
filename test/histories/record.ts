import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { eventDeliveryWorkflowId } from '../../workflows/event-delivery/contract';
import { parseJourneyId } from '../../workflows/journey/contract';
import globalSetup from '../harness/global-setup';
import globalTeardown from '../harness/global-teardown';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';
import { historyToJson } from './history-json';

/**
 * Records workflow histories for test/integration/replay.test.ts: starts the same real servers the
 * integration tests use, plays users (API calls, the carrier's inbound messages and taps) and writes
 * each workflow's history to test/histories/<file>.json.
 *
 *   npx tsx test/histories/record.ts                          # scenarios whose file is missing
 *   npx tsx test/histories/record.ts optoutv3-sms-stop-ends-journey campaign-sms-completed
 *
 * A journey file is named after its scenario; every other file starts with its workflow type
 * (journeyv2-, optout-, optoutv2-, optoutv3-, inbound-, inthread-, campaign-, tier-, direct-, events-), and
 * replay.test.ts checks the prefix against the type in the history. Unprefixed journey files and
 * optout- and optoutv2- files were recorded before journeys and opt-outs started as their current
 * types: recorded now, those scenarios would be runs of the current type under the wrong name, which
 * that check catches. Re-record when a
 * workflow change is meant to break replay (and ship it behind patched()); the point of the files is that old histories keep replaying against new
 * code, so never re-record one only because it stopped replaying. Some files were recorded by older
 * code and prove a patch's old branch still replays: sms-confirmed and the other unmarked journeys,
 * and every <file>.before-<patch>.json, which record-at.sh writes by running these scenarios against
 * the commit before the patch. Re-recording them now would lose that, so without names only missing
 * files are recorded, and a scenario must still run against the code of those commits.
 */

const ACME = { sms: '+15005550006', whatsapp: '+15005550007' };

type Recorder = (stack: TestStack) => Promise<string>;

/** One history to write: test/histories/<file>.json. */
interface Recording {
  file: string;
  workflowId: string;
  runId?: string;
  /** closed: recorded once the run has ended; open: a long-lived run, recorded once its history stops growing. */
  until: 'closed' | 'open';
}

interface Scenario {
  /**
   * The businesses the stack loads; config/businesses.demo.json unless the scenario needs other limits.
   * A function writes a file for this run (quiet hours relative to now).
   */
  businessesFile?: string | (() => string);
  record(stack: TestStack): Promise<Recording[]>;
}

async function start(stack: TestStack, body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', ...body });
  if (r.status !== 202) throw new Error(`journey did not start: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.journeyId;
}

/** SMS request, an unknown reply (clarify), YES, consent and the WhatsApp confirmation. */
const smsConfirmed =
  (phone: string): Recorder =>
  async (stack) => {
    const journeyId = await start(stack, { contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
    await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'maybe' });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[1], 10_000);
    await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'YES' });
    return journeyId;
  };

/**
 * 'hushed': acme's settings with quiet hours (UTC) that end at the first whole minute at least 20 s
 * from now, so a journey started at once is held back and then asks.
 */
function hushedBusinesses(): string {
  const acme = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'businesses.fast.json'), 'utf8')).businesses[0];
  const edge = Math.ceil((Date.now() + 20_000) / 60_000) * 60_000;
  const clock = (at: number) => new Date(at).toISOString().slice(11, 16);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'record-')), 'businesses.json');
  const senders = { ...acme.senders, sms: '+15005553106', whatsapp: '+15005553107', voice: '+15005553108' };
  const hushed = { ...acme, id: 'hushed', senders, frequencyCapDays: 0, quietHours: { start: clock(edge - 3 * 3_600_000), end: clock(edge), defaultTimezone: 'UTC' } };
  writeFileSync(file, JSON.stringify({ businesses: [acme, hushed] }));
  return file;
}

const journeys: Record<string, Recorder> = {
  'sms-confirmed': smsConfirmed('+14155550601'),
  /** The same, recorded after the store steps became local activities (store-steps-local). */
  'sms-confirmed-local-steps': smsConfirmed('+14155550607'),
  /** The same, recorded after the journey began inside its first send (journey-lean-start). */
  'sms-confirmed-lean-start': smsConfirmed('+14155550608'),
  /** No answer: two reminders, then the deadline. */
  'sms-expired-reminders': async (stack) => {
    const phone = '+14155550602';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** Journeys as they start now: journeyWorkflowV2, no patch markers. The unprefixed files are journeyWorkflow runs. */
  'journeyv2-sms-confirmed': smsConfirmed('+14155550617'),
  'journeyv2-sms-expired-reminders': async (stack) => {
    const phone = '+14155550618';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** E-mail link; the form POST narrows the categories (an update in the history). */
  'email-confirmed-narrowed': async (stack) => {
    const phone = '+14155550603';
    const email = 'replay@example.org';
    const journeyId = await start(stack, { contact: { phone, email }, categories: ['order_updates', 'offers', 'recommendations'], plan: [{ channel: 'email', waitFor: '60s' }] });
    const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 10_000);
    const link = mail.links.find((l) => l.startsWith(`${stack.apiUrl}/c/`));
    if (!link) throw new Error('the e-mail has no confirmation link');
    const form = new URLSearchParams([
      ['categories', 'offers'],
      ['decision', 'confirm'],
    ]);
    const posted = await fetch(link, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (posted.status !== 200) throw new Error(`the form POST answered ${posted.status}`);
    return journeyId;
  },
  /** SMS refused by the provider (21211), the e-mail step at once, then cancelled through the API. */
  'failed-then-cancelled': async (stack) => {
    const phone = '+14155550604';
    const email = 'cancelled@example.org';
    stack.carrier.setRecipientBehaviour(phone, { failWith: 21211 });
    const journeyId = await start(stack, { contact: { phone, email }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }, { channel: 'email', waitFor: '60s' }] });
    await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 10_000);
    await sleep(200);
    const r = await stack.request('POST', `/v1/journeys/${journeyId}/cancel`, { reason: 'recorded for replay' });
    if (r.status !== 200) throw new Error(`cancel answered ${r.status}`);
    return journeyId;
  },
  /** An IVR call nobody answers (asked twice, then no answer), then SMS, then YES. */
  'ivr-unanswered-then-sms': async (stack) => {
    const phone = '+14155550606';
    const journeyId = await start(stack, { contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'ivr', waitFor: '60s' }, { channel: 'sms', waitFor: '60s' }] });
    const call = await stack.carrier.waitFor(() => stack.carrier.calls({ to: phone }).find((c) => c.gather), 10_000);
    await stack.carrier.letGatherTimeOut(call.sid);
    await stack.carrier.letGatherTimeOut(call.sid);
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
    await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'Y' });
    return journeyId;
  },
  /** STOP while the WhatsApp request waits: the opt-out workflow's signal ends the journey. */
  'whatsapp-opted-out': async (stack) => {
    const phone = '+14155550605';
    const journeyId = await start(stack, { contact: { phone }, categories: ['recommendations'], plan: [{ channel: 'whatsapp', waitFor: '60s', remindAfter: ['30s'] }] });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 10_000);
    await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${ACME.whatsapp}`, body: 'STOP' });
    return journeyId;
  },
};

function journeyScenario(recorder: Recorder, businessesFile?: Scenario['businessesFile']): Scenario {
  return {
    businessesFile,
    async record(stack) {
      const journeyId = await recorder(stack);
      const ids = parseJourneyId(journeyId);
      if (!ids) throw new Error(`not a journey id: ${journeyId}`);
      return [{ file: '', ...ids, until: 'closed' }];
    },
  };
}

/** 'tiered': a WhatsApp tier of 6 new contacts a day and no quiet hours, so a campaign runs whatever the hour. */
const tierBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.tier.json');

const sms = (stack: TestStack, from: string, body: string) => stack.carrier.sendInbound({ from, to: ACME.sms, body });
const whatsapp = (stack: TestStack, from: string, body: string) => stack.carrier.sendInbound({ from: `whatsapp:${from}`, to: `whatsapp:${ACME.whatsapp}`, body });

async function messageSidOf(reply: Promise<{ status: number; messageSid: string }>): Promise<string> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`the messaging webhook answered ${r.status}`);
  return r.messageSid;
}

/**
 * The run the inbound workflow started as the contact's journey (the in-thread category question);
 * none when recorded with code from before inbound-start-asks-categories.
 */
async function categoryChoiceStartedBy(stack: TestStack, inboundId: string): Promise<{ workflowId: string; runId: string } | undefined> {
  const handle = stack.client.workflow.getHandle(inboundId);
  await handle.result();
  const started = (await handle.fetchHistory()).events?.find((e) => e.childWorkflowExecutionStartedEventAttributes)?.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
  return started?.workflowId && started.runId ? { workflowId: started.workflowId, runId: started.runId } : undefined;
}

/** Opts the contact out of everything by SMS STOP and waits until the opt-out workflow has honoured it. */
async function stopBySms(stack: TestStack, phone: string): Promise<string> {
  const optOutId = `optout.sms.${await messageSidOf(sms(stack, phone, 'STOP'))}`;
  await stack.client.workflow.getHandle(optOutId).result();
  return optOutId;
}

/** A journey asks by SMS, then the contact answers STOP; the opt-out's history is the file. */
function stopEndsJourney(file: string, phone: string): Scenario {
  return {
    async record(stack) {
      await start(stack, { contact: { phone }, categories: ['offers', 'order_updates'], plan: [{ channel: 'sms', waitFor: '60s' }] });
      await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
      return [{ file, workflowId: await stopBySms(stack, phone), until: 'closed' }];
    },
  };
}

async function startCampaign(stack: TestStack, body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/v1/campaigns', { businessId: 'tiered', categories: ['offers'], ...body });
  if (r.status !== 202) throw new Error(`campaign was not accepted: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.campaignId;
}

const others: Record<string, Scenario> = {
  /**
   * An endpoint whose receiver answers 503 to its first delivery: a failed round and the backoff,
   * the round that delivers, a replay, then the endpoint deleted (the workflow ends).
   */
  'events-delivered-replayed-deleted': {
    async record(stack) {
      let posts = 0;
      const receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(++posts === 1 ? 503 : 204).end());
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/events`;
        const r = await stack.request('POST', '/v1/event-endpoints', { businessId: 'acme', url });
        if (r.status !== 201) throw new Error(`endpoint registration answered ${r.status} ${JSON.stringify(r.body)}`);
        const endpointId: string = r.body.endpointId;
        await stopBySms(stack, '+14155550651');
        await stack.carrier.waitFor(() => posts >= 4, 60_000);
        const replay = await stack.request('POST', `/v1/event-endpoints/${endpointId}/replay`, { since: new Date(Date.now() - 3_600_000).toISOString() });
        if (replay.status !== 202) throw new Error(`replay answered ${replay.status}`);
        await stack.carrier.waitFor(() => posts >= 7, 60_000);
        const deleted = await stack.request('DELETE', `/v1/event-endpoints/${endpointId}`);
        if (deleted.status !== 200) throw new Error(`delete answered ${deleted.status}`);
        await stack.client.workflow.getHandle(eventDeliveryWorkflowId(endpointId)).result();
        return [{ file: 'events-delivered-replayed-deleted', workflowId: eventDeliveryWorkflowId(endpointId), until: 'closed' }];
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    },
  },
  /** SMS STOP while a journey waits: block, end the journey, record, confirm once by SMS. */
  'optout-sms-stop-ends-journey': stopEndsJourney('optout-sms-stop-ends-journey', '+14155550611'),
  /** The same, as opt-outs started as optOutWorkflowV2: no patch marker. */
  'optoutv2-sms-stop-ends-journey': stopEndsJourney('optoutv2-sms-stop-ends-journey', '+14155550619'),
  /** The same, as opt-outs start now (optOutWorkflowV3): one store step, then the journey's end and the confirmation side by side. */
  'optoutv3-sms-stop-ends-journey': stopEndsJourney('optoutv3-sms-stop-ends-journey', '+14155550629'),
  /** YES by SMS, handed to the contact's running journey. */
  'inbound-yes-to-journey': {
    async record(stack) {
      const phone = '+14155550612';
      await start(stack, { contact: { phone }, categories: ['order_updates'], plan: [{ channel: 'sms', waitFor: '60s' }] });
      await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
      const sid = await messageSidOf(sms(stack, phone, 'YES'));
      return [{ file: 'inbound-yes-to-journey', workflowId: `inbound.${sid}`, until: 'closed' }];
    },
  },
  /** SMS START with nothing running (inbound-start-asks-categories): the question, then "1,3". */
  'inbound-start-asks-categories': {
    async record(stack) {
      const phone = '+14155550613';
      const inboundId = `inbound.${await messageSidOf(sms(stack, phone, 'START'))}`;
      const inbound: Recording = { file: 'inbound-start-asks-categories', workflowId: inboundId, until: 'closed' };
      const choice = await categoryChoiceStartedBy(stack, inboundId);
      if (!choice) return [inbound];
      await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone, direction: 'outbound-api' })[0], 10_000);
      await sms(stack, phone, '1,3');
      return [inbound, { file: 'inthread-sms-choice-confirmed', ...choice, until: 'closed' }];
    },
  },
  /** START from a contact who had opted in and then STOPped: messaging resumes, the categories come back. */
  'inbound-start-resumes-messaging': {
    async record(stack) {
      const phone = '+14155550614';
      const offline = await stack.request('POST', '/v1/consents/offline', {
        businessId: 'acme',
        phone,
        categories: ['order_updates'],
        evidence: { documentRef: 'paper-resume-0614', signedAt: new Date(Date.now() - 86_400_000).toISOString(), collectedBy: 'store #3' },
      });
      if (offline.status !== 202) throw new Error(`offline consent answered ${offline.status}`);
      await stack.client.workflow.getHandle(offline.body.directConsentId).result();
      await stopBySms(stack, phone);
      const sid = await messageSidOf(sms(stack, phone, 'START'));
      return [{ file: 'inbound-start-resumes-messaging', workflowId: `inbound.${sid}`, until: 'closed' }];
    },
  },
  /** WhatsApp START after a STOP with nothing to restore: messaging resumes and the question follows; the contact taps All. */
  'inbound-start-resumes-then-asks': {
    async record(stack) {
      const phone = '+14155550615';
      await stopBySms(stack, phone);
      const inboundId = `inbound.${await messageSidOf(whatsapp(stack, phone, 'START'))}`;
      const inbound: Recording = { file: 'inbound-start-resumes-then-asks', workflowId: inboundId, until: 'closed' };
      const choice = await categoryChoiceStartedBy(stack, inboundId);
      if (!choice) return [inbound];
      const question = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}`, direction: 'outbound-api' }).find((m) => m.buttons.length > 0), 10_000);
      const all = question.buttons[question.buttons.length - 1];
      await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${ACME.whatsapp}`, buttonPayload: all.payload, buttonText: all.text });
      return [inbound, { file: 'inthread-whatsapp-choice-after-resume', ...choice, until: 'closed' }];
    },
  },
  /** A signed paper form: recorded and confirmed once on WhatsApp. */
  'direct-offline-consent': {
    async record(stack) {
      const r = await stack.request('POST', '/v1/consents/offline', {
        businessId: 'acme',
        phone: '+14155550616',
        categories: ['order_updates', 'offers'],
        evidence: { documentRef: 'paper-record-0616', signedAt: new Date(Date.now() - 2 * 86_400_000).toISOString(), collectedBy: 'store #12' },
      });
      if (r.status !== 202) throw new Error(`offline consent answered ${r.status} ${JSON.stringify(r.body)}`);
      return [{ file: 'direct-offline-consent', workflowId: r.body.directConsentId, until: 'closed' }];
    },
  },
  /** Three SMS rows, started and completed. */
  'campaign-sms-completed': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const campaignId = await startCampaign(stack, { name: 'recorded sms', plan: [{ channel: 'sms', waitFor: '30s' }], contacts: ['+14155550621', '+14155550622', '+14155550623'].map((phone) => ({ phone })) });
      return [{ file: 'campaign-sms-completed', workflowId: `campaign.${campaignId}`, until: 'closed' }];
    },
  },
  /**
   * Four WhatsApp rows (campaign-shared-whatsapp-tier): the batch takes grants from the business's tier
   * workflow, one contact already has a journey running, so its grant is given back. The tier workflow
   * lives on (24-hour window) and is recorded as it stands; before the patch there was none.
   */
  'campaign-whatsapp-shared-tier': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const busy = '+14155550631';
      const r = await stack.request('POST', '/v1/journeys', { businessId: 'tiered', contact: { phone: busy }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
      if (r.status !== 202) throw new Error(`journey did not start: ${r.status} ${JSON.stringify(r.body)}`);
      await stack.carrier.waitFor(() => stack.carrier.messages({ to: busy })[0], 10_000);
      const campaignId = await startCampaign(stack, { name: 'recorded whatsapp', plan: [{ channel: 'whatsapp', waitFor: '30s' }], contacts: [busy, '+14155550632', '+14155550633', '+14155550634'].map((phone) => ({ phone })) });
      await stack.client.workflow.getHandle(`campaign.${campaignId}`).result();
      const campaign: Recording = { file: 'campaign-whatsapp-shared-tier', workflowId: `campaign.${campaignId}`, until: 'closed' };
      const tier = await stack.client.workflow.getHandle('whatsapp-tier.tiered').describe().then(
        () => true,
        (err: unknown) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)),
      );
      return tier ? [campaign, { file: 'tier-after-whatsapp-campaign', workflowId: 'whatsapp-tier.tiered', until: 'open' }] : [campaign];
    },
  },
  /**
   * Eight WhatsApp rows for a tier of six: six start, two wait for the window (a day) to free up, so
   * the campaign is recorded while it waits. Before campaign-shared-whatsapp-tier the campaign's own
   * pacer counted the tier and slept; now the tier workflow holds the rows back. Only a history
   * that ran into the tier tells those two branches apart.
   */
  'campaign-whatsapp-over-tier': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const contacts = Array.from({ length: 8 }, (_, i) => ({ phone: `+1415555064${i}` }));
      const campaignId = await startCampaign(stack, { name: 'recorded over the tier', plan: [{ channel: 'whatsapp', waitFor: '30s' }], contacts });
      const progress = async () => (await stack.request('GET', `/v1/campaigns/${campaignId}`)).body;
      await stack.carrier.waitFor(async () => {
        const p = await progress();
        return p.started > 0 && p.counts?.pending > 0 && p.status === 'running' ? p : undefined;
      }, 20_000);
      return [{ file: 'campaign-whatsapp-over-tier', workflowId: `campaign.${campaignId}`, until: 'open' }];
    },
  },
};

/** Journeys that need businesses of their own. */
const journeysWithBusinesses: Record<string, Scenario> = {
  /** Started in the contact's quiet hours (journey-quiet-hours): held back, asked when they end, then YES. */
  'sms-deferred-quiet-hours': journeyScenario(async (stack) => {
    const phone = '+14155550609';
    const r = await stack.request('POST', '/v1/journeys', { businessId: 'hushed', contact: { phone, timezone: 'UTC' }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
    if (r.status !== 202) throw new Error(`journey did not start: ${r.status} ${JSON.stringify(r.body)}`);
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 120_000);
    await stack.carrier.sendInbound({ from: phone, to: '+15005553106', body: 'YES' });
    return r.body.journeyId;
  }, hushedBusinesses),
};

const scenarios: Record<string, Scenario> = {
  ...Object.fromEntries(Object.entries(journeys).map(([name, recorder]) => [name, journeyScenario(recorder)])),
  ...journeysWithBusinesses,
  ...others,
};

const { EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EVENT_TYPE_WORKFLOW_TASK_STARTED } = temporal.api.enums.v1.EventType;

/** A long-lived run's history once nothing is in flight: two reads 500 ms apart agree and no workflow task is open. */
async function quietHistory(handle: WorkflowHandle): Promise<temporal.api.history.v1.IHistory> {
  let seen = -1;
  for (let i = 0; i < 60; i++) {
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1]?.eventType;
    if (events.length === seen && last !== EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && last !== EVENT_TYPE_WORKFLOW_TASK_STARTED) return history;
    seen = events.length;
    await sleep(500);
  }
  throw new Error(`${handle.workflowId} never went quiet`);
}

/** Where files go and what their names end with; see record-at.sh for recording with older code. */
interface Output {
  dir: string;
  /** `before-<patch>`: the file is <name>.before-<patch>.json. */
  label?: string;
}

function fileOf(out: Output, name: string): string {
  return path.join(out.dir, `${name}${out.label ? `.${out.label}` : ''}.json`);
}

async function write(stack: TestStack, out: Output, scenario: string, rec: Recording): Promise<void> {
  const handle = stack.client.workflow.getHandle(rec.workflowId, rec.runId);
  if (rec.until === 'closed') await handle.result();
  const history = rec.until === 'closed' ? await handle.fetchHistory() : await quietHistory(handle);
  const { status, type } = await handle.describe();
  const file = fileOf(out, rec.file || scenario);
  writeFileSync(file, `${JSON.stringify(historyToJson(history), null, 1)}\n`);
  process.stdout.write(`${path.basename(file)}: ${type} ${status.name}, ${history.events?.length ?? 0} events -> ${file}\n`);
}

async function main(): Promise<void> {
  const { values, positionals: wanted } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, label: { type: 'string' } } });
  const out: Output = { dir: path.resolve(values.out ?? __dirname), label: values.label };
  const unknown = wanted.filter((n) => !(n in scenarios));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(scenarios).filter((name) => !existsSync(fileOf(out, name)));
  // One stack per businesses file: each scenario gets the limits it was written for.
  const byBusinesses = new Map<Scenario['businessesFile'], string[]>();
  for (const name of names) byBusinesses.set(scenarios[name].businessesFile, [...(byBusinesses.get(scenarios[name].businessesFile) ?? []), name]);

  await globalSetup();
  try {
    for (const [businessesFile, group] of byBusinesses) {
      const stack = await startTestStack({ prefix: 'record', businessesFile: typeof businessesFile === 'function' ? businessesFile() : businessesFile });
      try {
        for (const name of group) {
          for (const rec of await scenarios[name].record(stack)) await write(stack, out, name, rec);
        }
      } finally {
        await stack.close();
      }
    }
  } finally {
    await globalTeardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`recording failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
