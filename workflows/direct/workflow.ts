import { log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities } from '../../activities/channel';
import type { DirectConsentActivities } from '../../activities/direct';
import { directConsentResultQuery, type DirectConsentInput, type DirectConsentResult } from './contract';
import { proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';

const store = proxyStoreSteps<DirectConsentActivities>();
const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);

/** Records a consent the contact gave by their own witnessed act, then confirms it once on WhatsApp. */
export async function directConsentWorkflow(input: DirectConsentInput): Promise<DirectConsentResult> {
  let result: DirectConsentResult | undefined = undefined;
  setHandler(directConsentResultQuery, () => result);
  const directConsentId = workflowInfo().workflowId;

  const recorded = await store().recordDirectConsent({ ...input, directConsentId });

  let confirmation: DirectConsentResult['confirmation'];
  if (recorded.categories.length > 0) {
    const sent = await send({
      idempotencyKey: `${directConsentId}/confirmation`,
      purpose: 'confirmation',
      channel: 'whatsapp',
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      categories: recorded.categories,
    });
    await store().recordDirectConfirmation({
      directConsentId,
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      categories: recorded.categories,
      providerId: sent.providerId,
      outcome: sent.outcome,
      shown: sent.shown,
      at: sent.at,
    });
    confirmation = { outcome: sent.outcome, providerId: sent.providerId };
  }
  result = { ...recorded, confirmation };
  log.info('direct consent recorded', { method: input.method, categories: recorded.categories.length, superseded: recorded.superseded.length, reallowed: recorded.reallowed });
  return result;
}
