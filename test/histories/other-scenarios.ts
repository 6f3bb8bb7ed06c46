/** The other workflows' scenarios: event delivery, opt-outs, inbound messages and direct consent (campaigns: campaign-scenarios.ts). */
import { createServer } from 'node:http';
import { eventDeliveryWorkflowId } from '../../workflows/event-delivery/contract';
import type { TestStack } from '../harness/stack';
import { ACME, start, type Recording, type Scenario } from './scenario';

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

export const others: Record<string, Scenario> = {
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
  /** The same, as optOutWorkflowV3 ran: one store step, then the journey's end and the confirmation side by side. */
  'optoutv3-sms-stop-ends-journey': stopEndsJourney('optoutv3-sms-stop-ends-journey', '+14155550629'),
  /** The same, as optOutWorkflowV4 ran: the journey's end beside one activity that honours and confirms. */
  'optoutv4-sms-stop-ends-journey': stopEndsJourney('optoutv4-sms-stop-ends-journey', '+14155550627'),
  /** The same, as optOutWorkflowV5 ran: one activity tells the journey, honours and confirms. */
  'optoutv5-sms-stop-ends-journey': stopEndsJourney('optoutv5-sms-stop-ends-journey', '+14155550637'),
  /** The same, as opt-outs start now (optOutWorkflowV6): that one step as a local activity, one workflow task. */
  'optoutv6-sms-stop-ends-journey': stopEndsJourney('optoutv6-sms-stop-ends-journey', '+14155550641'),
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
};
