import { z } from 'zod';

/**
 * Meta's WhatsApp webhook bodies, as far as we act on them. Unknown fields pass through (Meta adds
 * fields over time); every value we use is bounded. `value` is parsed per `field` by the route.
 */

const waId = z.string().regex(/^[1-9]\d{6,14}$/, 'must be a WhatsApp id (the phone number in digits)');
const wamid = z.string().min(1).max(256);
const timestamp = z.union([z.string().regex(/^\d{1,12}$/, 'must be seconds since 1970'), z.number().int().min(0)]).transform((t) => new Date(Number(t) * 1000).toISOString());
const metadata = z.object({ display_phone_number: z.string().max(20).optional(), phone_number_id: z.string().regex(/^\d{1,30}$/, 'must be the digits of a phone-number id') });

export const metaEnvelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z
    .array(
      z.object({
        id: z.string().max(30),
        changes: z.array(z.object({ field: z.string().min(1).max(64), value: z.unknown() })).max(100),
      }),
    )
    .max(100),
});

export const metaMessageSchema = z
  .object({
    from: waId,
    id: wamid,
    timestamp,
    type: z.string().max(40),
    text: z.object({ body: z.string().max(8192) }).optional(),
    button: z.object({ payload: z.string().max(1024).optional(), text: z.string().max(1024).optional() }).optional(),
    interactive: z
      .object({
        type: z.string().max(40),
        button_reply: z.object({ id: z.string().max(256), title: z.string().max(256) }).optional(),
        list_reply: z.object({ id: z.string().max(256), title: z.string().max(256) }).optional(),
      })
      .optional(),
  })
  .passthrough();

export const metaStatusSchema = z
  .object({
    id: wamid,
    status: z.string().min(1).max(40),
    timestamp,
    recipient_id: waId.optional(),
    biz_opaque_callback_data: z.string().max(512).optional(),
    errors: z.array(z.object({ code: z.number().int() }).passthrough()).max(10).optional(),
  })
  .passthrough();

export const metaMessagesValueSchema = z
  .object({
    messaging_product: z.literal('whatsapp'),
    metadata,
    messages: z.array(metaMessageSchema).max(1000).optional(),
    statuses: z.array(metaStatusSchema).max(1000).optional(),
  })
  .passthrough();

export const metaUserPreferencesValueSchema = z
  .object({
    metadata,
    user_preferences: z
      .array(z.object({ wa_id: waId, category: z.string().min(1).max(64), value: z.string().min(1).max(32), timestamp, detail: z.string().max(500).optional() }).passthrough())
      .max(1000),
  })
  .passthrough();

export const metaQualityValueSchema = z
  .object({ display_phone_number: z.string().regex(/^\d{6,15}$/, 'must be the number in digits'), event: z.string().min(1).max(64), current_limit: z.string().max(32).optional(), old_limit: z.string().max(32).optional() })
  .passthrough();

export const metaAccountValueSchema = z.object({ phone_number: z.string().regex(/^\d{6,15}$/, 'must be the number in digits').optional(), event: z.string().min(1).max(64) }).passthrough();

export const metaVerifyQuerySchema = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string().min(1).max(256),
  'hub.challenge': z.string().min(1).max(256),
});
