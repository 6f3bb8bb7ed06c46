import { ALL_CATEGORIES_PAYLOAD, categoryButtonPayload } from '../domain/category-choice';
import { BUTTON_PAYLOADS } from '../domain/keywords';
import type { Business } from '../domain/business';
import type { MetaCarrierOptions, MetaTemplate } from './carrier/meta-types';
import type { ContentTemplate } from './carrier/types';

/**
 * What the local carrier shows for each WhatsApp content id of the configured businesses, standing in
 * for the templates a business gets approved in Twilio's Content API.
 */
export function carrierContentFor(businesses: Business[]): { contentTemplates: Record<string, ContentTemplate>; templateContentSids: string[] } {
  const contentTemplates: Record<string, ContentTemplate> = {};
  const templateContentSids: string[] = [];
  const yesNo = [
    { payload: BUTTON_PAYLOADS.yes, text: 'Yes' },
    { payload: BUTTON_PAYLOADS.no, text: 'No' },
  ];
  for (const b of businesses) {
    const t = b.whatsappTemplates;
    contentTemplates[t.optinRequest] = { text: '{{1}}: may we send you {{2}} on WhatsApp? Tap Yes to agree or No to decline. Reply STOP at any time to opt out.', buttons: [...yesNo, { payload: BUTTON_PAYLOADS.stop, text: 'Stop' }] };
    contentTemplates[t.confirmation] = { text: "You're subscribed to {{2}} from {{1}} on WhatsApp. Reply STOP to opt out." };
    contentTemplates[t.optoutConfirmation] = { text: '{{1}}: you are unsubscribed and will receive no more messages. Reply START to opt back in.' };
    if (b.whatsappQuickReplyContent) contentTemplates[b.whatsappQuickReplyContent] = { text: '{{1}}', buttons: yesNo };
    if (b.whatsappCategoryChoiceContent) {
      const categories = b.categories.map((c) => ({ payload: categoryButtonPayload(c.id), text: c.label }));
      contentTemplates[b.whatsappCategoryChoiceContent] = { text: '{{1}}', buttons: [...categories, { payload: ALL_CATEGORIES_PAYLOAD, text: 'All' }] };
    }
    templateContentSids.push(t.optinRequest, t.confirmation, t.optoutConfirmation);
  }
  return { contentTemplates, templateContentSids };
}

/** The languages every demo template is approved in (the product's locales). */
const META_TEMPLATE_LANGUAGES = ['en', 'es', 'fr'];

/**
 * The carrier's Meta side for the businesses on Meta: their numbers and the templates they would have
 * approved in WhatsApp Manager. The opt-in request asks to send offers, so Meta files it as marketing.
 */
export function carrierMetaFor(businesses: Business[], secrets: { accessToken: string; appSecret: string; webhookUrl?: string }): MetaCarrierOptions | undefined {
  const onMeta = businesses.filter((b) => b.whatsapp.provider === 'meta');
  if (onMeta.length === 0) return undefined;
  const templates: Record<string, MetaTemplate> = {};
  const numbers: MetaCarrierOptions['numbers'] = [];
  for (const b of onMeta) {
    if (b.whatsapp.provider !== 'meta') continue;
    numbers.push({ phoneNumberId: b.whatsapp.phoneNumberId, displayNumber: b.senders.whatsapp, wabaId: b.whatsapp.wabaId });
    const t = b.whatsappTemplates;
    templates[t.optinRequest] = { text: '{{1}}: may we send you {{2}} on WhatsApp? Tap Yes to agree or No to decline. Reply STOP at any time to opt out.', buttons: ['Yes', 'No', 'Stop'], category: 'MARKETING', languages: META_TEMPLATE_LANGUAGES };
    templates[t.confirmation] = { text: "You're subscribed to {{2}} from {{1}} on WhatsApp. Reply STOP to opt out.", category: 'UTILITY', languages: META_TEMPLATE_LANGUAGES };
    templates[t.optoutConfirmation] = { text: '{{1}}: you are unsubscribed and will receive no more messages. Reply START to opt back in.', category: 'UTILITY', languages: META_TEMPLATE_LANGUAGES };
  }
  return { ...secrets, numbers, templates };
}
