import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseJourneyId } from '../../workflows/journey/contract';
import globalSetup from '../harness/global-setup';
import globalTeardown from '../harness/global-teardown';
import { startTestStack, type TestStack } from '../harness/stack';
import { historyToJson } from './history-json';

/**
 * Records journey histories for test/integration/replay.test.ts: starts the same real servers the
 * integration tests use, drives each journey through the API and the carrier, and writes its
 * history to test/histories/<name>.json.
 *
 *   npx tsx test/histories/record.ts            # every journey below
 *   npx tsx test/histories/record.ts sms-confirmed
 *
 * Re-record when a workflow change is meant to break replay (and ship it behind patched()); the
 * point of the files is that old histories keep replaying against new code.
 */

const ACME = { sms: '+15005550006', whatsapp: '+15005550007' };
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

type Recorder = (stack: TestStack) => Promise<string>;

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

const journeys: Record<string, Recorder> = {
  'sms-confirmed': smsConfirmed('+14155550601'),
  /** The same, recorded after the store steps became local activities (store-steps-local). */
  'sms-confirmed-local-steps': smsConfirmed('+14155550607'),
  /** No answer: two reminders, then the deadline. */
  'sms-expired-reminders': async (stack) => {
    const phone = '+14155550602';
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

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((n) => !(n in journeys));
  if (unknown.length) throw new Error(`unknown journey(s) ${unknown.join(', ')}; known: ${Object.keys(journeys).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(journeys);

  await globalSetup();
  const stack = await startTestStack({ prefix: 'record' });
  try {
    for (const name of names) {
      const journeyId = await journeys[name](stack);
      const ids = parseJourneyId(journeyId);
      if (!ids) throw new Error(`not a journey id: ${journeyId}`);
      const handle = stack.client.workflow.getHandle(ids.workflowId, ids.runId);
      const result = await handle.result();
      const history = await handle.fetchHistory();
      const file = path.join(__dirname, `${name}.json`);
      writeFileSync(file, `${JSON.stringify(historyToJson(history), null, 1)}\n`);
      process.stdout.write(`${name}: ${result.status}, ${history.events?.length ?? 0} events -> ${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    await stack.close();
    await globalTeardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`recording failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
