/** The campaigns' scenarios, and the WhatsApp tier's they share. */
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestStack } from '../harness/stack';
import type { Recording, Scenario } from './scenario';

/** 'tiered': a WhatsApp tier of 6 new contacts a day and no quiet hours, so a campaign runs whatever the hour. */
const tierBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.tier.json');

async function startCampaign(stack: TestStack, body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/v1/campaigns', { businessId: 'tiered', categories: ['offers'], ...body });
  if (r.status !== 202) throw new Error(`campaign was not accepted: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.campaignId;
}

export const campaigns: Record<string, Scenario> = {
  /** Three SMS rows, started and completed. */
  'campaign-sms-completed': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const campaignId = await startCampaign(stack, { name: 'recorded sms', plan: [{ channel: 'sms', waitFor: '30s' }], contacts: ['+14155550621', '+14155550622', '+14155550623'].map((phone) => ({ phone })) });
      return [{ file: 'campaign-sms-completed', workflowId: `campaign.${campaignId}`, until: 'closed' }];
    },
  },
  /**
   * Twelve SMS rows at the business's 10 a second (campaign-batch-spans-windows): one batch starts ten
   * at once and two a window later. Before the patch a batch started one window's ten, and a second
   * batch the other two.
   */
  'campaign-sms-paced': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const contacts = Array.from({ length: 12 }, (_, i) => ({ phone: `+141555506${60 + i}` }));
      const campaignId = await startCampaign(stack, { name: 'recorded paced sms', plan: [{ channel: 'sms', waitFor: '30s' }], contacts });
      return [{ file: 'campaign-sms-paced', workflowId: `campaign.${campaignId}`, until: 'closed' }];
    },
  },
  /**
   * Fifty-two SMS rows at the business's 10 a second: a batch of three windows, then one that holds
   * its first group until its window opens. Before campaign-batch-waits-for-window the wait between
   * them was one timer to the window; before campaign-batches-chain, a timer that ended half a second
   * before it; now the second batch follows in the same workflow task.
   */
  'campaign-sms-paced-batches': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const contacts = Array.from({ length: 52 }, (_, i) => ({ phone: `+14155550${700 + i}` }));
      const campaignId = await startCampaign(stack, { name: 'recorded paced batches', plan: [{ channel: 'sms', waitFor: '30s' }], contacts });
      return [{ file: 'campaign-sms-paced-batches', workflowId: `campaign.${campaignId}`, until: 'closed' }];
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
  /**
   * A hundred and twenty SMS rows at 10 a second (campaign-batches-chain), paused once ten were
   * asked and resumed a second later: batches chained in one workflow task, the pause arriving with
   * the task's renewal, the wait that lets the task go so each answer leaves, and the chain again
   * after the resume.
   */
  'campaign-sms-paused-chain': {
    businessesFile: tierBusinesses,
    async record(stack) {
      const contacts = Array.from({ length: 120 }, (_, i) => ({ phone: `+14155550${800 + i}` }));
      const campaignId = await startCampaign(stack, { name: 'recorded pause', plan: [{ channel: 'sms', waitFor: '30s' }], contacts });
      await stack.carrier.waitFor(() => contacts.filter((c) => stack.carrier.messages({ to: c.phone }).length > 0).length >= 10 || undefined, 20_000);
      for (const action of ['pause', 'resume']) {
        const r = await stack.request('POST', `/v1/campaigns/${campaignId}/${action}`);
        if (r.status !== 200) throw new Error(`${action} answered ${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      return [{ file: 'campaign-sms-paused-chain', workflowId: `campaign.${campaignId}`, until: 'closed' }];
    },
  },
};
