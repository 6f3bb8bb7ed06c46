import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes ops filter on in the Temporal UI. Never a phone number or e-mail: the contact id. */
export const OptinBusiness = defineSearchAttributeKey('OptinBusiness', SearchAttributeType.KEYWORD);
export const OptinChannel = defineSearchAttributeKey('OptinChannel', SearchAttributeType.KEYWORD);
export const OptinStatus = defineSearchAttributeKey('OptinStatus', SearchAttributeType.KEYWORD);
export const OptinCampaign = defineSearchAttributeKey('OptinCampaign', SearchAttributeType.KEYWORD);
export const OptinContact = defineSearchAttributeKey('OptinContact', SearchAttributeType.KEYWORD);

export const searchAttributeDefinitions: ReadonlyArray<{ name: string; type: 'Keyword' }> = [
  OptinBusiness,
  OptinChannel,
  OptinStatus,
  OptinCampaign,
  OptinContact,
].map((k) => ({ name: k.name, type: 'Keyword' as const }));

/** What a journey carries from its start (workflows, the API and the campaign activity start journeys). */
export function journeySearchAttributes(j: { businessId: string; contactId: string; channel: string; campaignId?: string }) {
  return [
    { key: OptinBusiness, value: j.businessId },
    { key: OptinContact, value: j.contactId },
    { key: OptinStatus, value: 'active' },
    { key: OptinChannel, value: j.channel },
    ...(j.campaignId ? [{ key: OptinCampaign, value: j.campaignId }] : []),
  ];
}
