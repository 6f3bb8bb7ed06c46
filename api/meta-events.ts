import type { z } from 'zod';
import type { Business, BusinessRegistry } from '../domain/business';
import type { MetaEvent, MetaStatusCallback } from '../services/meta-webhooks';
import { parseOr400 } from './errors';
import {
  metaAccountValueSchema,
  metaEnvelopeSchema,
  metaMessageSchema,
  metaMessagesValueSchema,
  metaQualityValueSchema,
  metaUserPreferencesValueSchema,
} from './meta-schemas';
import { statusCallbackQuerySchema } from './schemas';

export interface MetaEventsRead {
  events: MetaEvent[];
  /** Changes for numbers no business here owns, or fields we do not act on: acknowledged and logged. */
  ignored: Array<{ field: string; why: string }>;
}

const plus = (digits: string) => `+${digits}`;

function callbackOf(raw: string | undefined): MetaStatusCallback {
  if (!raw) return {};
  const parsed = statusCallbackQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(raw)));
  if (!parsed.success) return {};
  return { workflowId: parsed.data.wf, runId: parsed.data.run, contactId: parsed.data.c, outboxKey: parsed.data.o };
}

function messageEvent(business: Business, m: z.infer<typeof metaMessageSchema>, proof: Record<string, unknown>): MetaEvent {
  const base = { kind: 'message' as const, business, messageId: m.id, phone: plus(m.from), payload: { ...proof, message: m } };
  if (m.type === 'button' && m.button) return { ...base, buttonPayload: m.button.payload ?? m.button.text, buttonText: m.button.text };
  const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
  if (m.type === 'interactive' && reply) return { ...base, buttonPayload: reply.id, buttonText: reply.title };
  return { ...base, text: m.text?.body };
}

/**
 * Turns a verified Meta webhook body into events for the services. Every part we act on crosses its
 * schema (a 400 names the field); a number that belongs to no business here is left out, not refused.
 */
export function readMetaEvents(body: unknown, businesses: BusinessRegistry): MetaEventsRead {
  const envelope = parseOr400(metaEnvelopeSchema, body, 'body');
  const events: MetaEvent[] = [];
  const ignored: MetaEventsRead['ignored'] = [];
  const onMeta = (b: Business | undefined) => (b?.whatsapp.provider === 'meta' ? b : undefined);

  envelope.entry.forEach((entry, i) =>
    entry.changes.forEach((change, j) => {
      const where = `entry.${i}.changes.${j}.value`;
      const byWaba = () => businesses.all().find((b) => b.whatsapp.provider === 'meta' && b.whatsapp.wabaId === entry.id);
      switch (change.field) {
        case 'messages': {
          const value = parseOr400(metaMessagesValueSchema, change.value, where);
          const business = businesses.byMetaPhoneNumberId(value.metadata.phone_number_id);
          if (!business) return void ignored.push({ field: change.field, why: 'the phone-number id belongs to no business here' });
          const proof = { field: change.field, metadata: value.metadata, contacts: value.contacts };
          for (const m of value.messages ?? []) events.push(messageEvent(business, m, proof));
          for (const s of value.statuses ?? []) {
            const errorCode = s.errors?.[0]?.code;
            events.push({ kind: 'status', business, messageId: s.id, status: s.status, errorCode, phone: s.recipient_id ? plus(s.recipient_id) : undefined, callback: callbackOf(s.biz_opaque_callback_data), payload: { field: change.field, metadata: value.metadata, status: s } });
          }
          return;
        }
        case 'user_preferences': {
          const value = parseOr400(metaUserPreferencesValueSchema, change.value, where);
          const business = businesses.byMetaPhoneNumberId(value.metadata.phone_number_id);
          if (!business) return void ignored.push({ field: change.field, why: 'the phone-number id belongs to no business here' });
          for (const p of value.user_preferences) {
            events.push({ kind: 'preference', business, phone: plus(p.wa_id), category: p.category, value: p.value, at: p.timestamp, payload: { field: change.field, metadata: value.metadata, preference: p } });
          }
          return;
        }
        case 'phone_number_quality_update': {
          const value = parseOr400(metaQualityValueSchema, change.value, where);
          const business = onMeta(businesses.bySenderNumber(plus(value.display_phone_number))) ?? byWaba();
          if (!business) return void ignored.push({ field: change.field, why: 'the number belongs to no business on Meta here' });
          events.push({ kind: 'number', business, field: change.field, event: value.event, currentLimit: value.current_limit, payload: { wabaId: entry.id, ...value } });
          return;
        }
        case 'account_update': {
          const value = parseOr400(metaAccountValueSchema, change.value, where);
          const business = (value.phone_number ? onMeta(businesses.bySenderNumber(plus(value.phone_number))) : undefined) ?? byWaba();
          if (!business) return void ignored.push({ field: change.field, why: 'the account belongs to no business on Meta here' });
          events.push({ kind: 'number', business, field: change.field, event: value.event, payload: { wabaId: entry.id, ...value } });
          return;
        }
        default:
          ignored.push({ field: change.field, why: 'a field Optinflow does not subscribe to' });
      }
    }),
  );
  return { events, ignored };
}
