/** The journey scenarios: each plays a contact through one journey, whose history is the file. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from '../harness/wait';
import { ACME, journeyScenario, start, type Recorder, type Scenario } from './scenario';

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

export const journeys: Record<string, Recorder> = {
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
  /** Journeys of journeyWorkflowV2, no patch markers. The unprefixed files are journeyWorkflow runs. */
  'journeyv2-sms-confirmed': smsConfirmed('+14155550617'),
  'journeyv2-sms-expired-reminders': async (stack) => {
    const phone = '+14155550618';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** Journeys of journeyWorkflowV3: a confirmed answer recorded and confirmed in one activity, sends as activities. */
  'journeyv3-sms-confirmed': smsConfirmed('+14155550625'),
  'journeyv3-sms-expired-reminders': async (stack) => {
    const phone = '+14155550626';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** Journeys as they start now: journeyWorkflowV4, the journey's own sends as local activities. */
  'journeyv4-sms-confirmed': smsConfirmed('+14155550638'),
  'journeyv4-sms-expired-reminders': async (stack) => {
    const phone = '+14155550639';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** Journeys as they start now: journeyWorkflowV5, which also carries out an opt-out sent with its signal. */
  'journeyv5-sms-confirmed': smsConfirmed('+14155550661'),
  'journeyv5-sms-expired-reminders': async (stack) => {
    const phone = '+14155550662';
    return start(stack, { contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '3s', remindAfter: ['1s', '2s'] }] });
  },
  /** The contact answers STOP: the journey blocks, writes the ledger and confirms in its own task. */
  'journeyv5-sms-stop-carried': async (stack) => {
    const phone = '+14155550663';
    const journeyId = await start(stack, { contact: { phone }, categories: ['order_updates', 'offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
    await stack.carrier.sendInbound({ from: phone, to: ACME.sms, body: 'STOP' });
    await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone }).find((m) => m.body.includes('unsubscribed')), 10_000);
    return journeyId;
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

/** Journeys that need businesses of their own. */
export const journeysWithBusinesses: Record<string, Scenario> = {
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
