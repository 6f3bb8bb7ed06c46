import { z } from 'zod';
import { CarrierUsageError } from './errors';
import { validate, type Reply } from './http';
import type { Messaging } from './messaging';
import { faultSchema } from './rest-api';
import type { Carrier } from './types';
import type { Voice } from './voice';

const inboundSchema = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  body: z.string().optional(),
  buttonPayload: z.string().optional(),
  buttonText: z.string().optional(),
  channel: z.enum(['sms', 'whatsapp']).optional(),
  profileName: z.string().optional(),
});

const behaviourSchema = z.object({
  failWith: z.number().int().positive().optional(),
  metaFailWith: z.number().int().positive().optional(),
  deliveryStatus: z.enum(['undelivered', 'failed']).optional(),
  unsubscribed: z.boolean().optional(),
  callOutcome: z.enum(['busy', 'no-answer', 'failed']).optional(),
});

const metaQualitySchema = z.enum(['GREEN', 'YELLOW', 'RED']);
const metaTierSchema = z.enum(['TIER_250', 'TIER_1K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED']);
export const preferenceSchema = z.object({ from: z.string().min(1), to: z.string().min(1), value: z.enum(['stop', 'resume']) });
export const numberChangeSchema = z.object({ quality: metaQualitySchema.optional(), tier: metaTierSchema.optional() });

/** The `/_carrier/` JSON API: the Carrier interface over HTTP, for a carrier running in its own process (npm run carrier). */
export async function inspectionApi(carrier: Carrier, records: { messaging: Messaging; voice: Voice }, url: URL, method: string, body: unknown): Promise<Reply> {
  const path = url.pathname.replace(/^\/_carrier/, '');
  const q = (name: string) => url.searchParams.get(name) ?? undefined;
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);

  if (method === 'GET') {
    if (path === '/health') return { status: 200, json: { ok: true } };
    if (path === '/messages') {
      const channel = q('channel');
      return {
        status: 200,
        json: carrier.messages({ to: q('to'), from: q('from'), contact: q('contact'), channel: channel === 'sms' || channel === 'whatsapp' ? channel : undefined }),
      };
    }
    if (path === '/calls') return { status: 200, json: carrier.calls({ to: q('to'), from: q('from') }) };
    if (path === '/meta/numbers') return { status: 200, json: carrier.metaNumbers() };
    if (path === '/meta/webhooks') return { status: 200, json: carrier.metaWebhooks({ field: q('field') }) };
    if (path === '/emails') return { status: 200, json: carrier.emails({ to: q('to') }) };
    if (segments[0] === 'messages' && segments.length === 2) {
      const found = records.messaging.get(segments[1]);
      if (found) return { status: 200, json: found };
    }
    if (segments[0] === 'calls' && segments.length === 2) {
      const found = records.voice.get(segments[1]);
      if (found) return { status: 200, json: found };
    }
    throw new CarrierUsageError(404, `nothing at ${url.pathname}`);
  }
  if (method !== 'POST') throw new CarrierUsageError(405, `${method} is not supported here`);

  if (path === '/reset') {
    carrier.reset();
    return { status: 204 };
  }
  if (path === '/inbound') return { status: 200, json: await carrier.sendInbound(validate(inboundSchema, body)) };
  if (path === '/inbound-url') {
    carrier.setInboundMessageUrl(validate(z.object({ url: z.url() }), body).url);
    return { status: 204 };
  }
  if (path === '/meta/webhook-url') {
    carrier.setMetaWebhookUrl(validate(z.object({ url: z.url() }), body).url);
    return { status: 204 };
  }
  if (path === '/meta/preferences') {
    const p = validate(preferenceSchema, body);
    return { status: 200, json: await carrier.setMarketingPreference(p.from, p.to, p.value) };
  }
  if (segments[0] === 'meta' && segments[1] === 'numbers' && segments.length === 3) {
    return { status: 200, json: await carrier.updateMetaNumber(segments[2], validate(numberChangeSchema, body)) };
  }
  if (segments[0] === 'meta' && segments[1] === 'numbers' && segments[3] === 'account-update' && segments.length === 4) {
    return { status: 200, json: await carrier.sendAccountUpdate(segments[2], validate(z.object({ event: z.string().min(1).max(64) }), body).event) };
  }
  if (path === '/faults') {
    carrier.injectFault(validate(faultSchema, body));
    return { status: 204 };
  }
  if (segments[0] === 'recipients' && segments.length === 2) {
    carrier.setRecipientBehaviour(segments[1], validate(behaviourSchema, body));
    return { status: 204 };
  }
  if (segments[0] === 'calls' && segments.length === 3) {
    const [, sid, action] = segments;
    if (action === 'digits') return { status: 200, json: await carrier.pressKeys(sid, validate(z.object({ digits: z.string().min(1) }), body).digits) };
    if (action === 'timeout') return { status: 200, json: await carrier.letGatherTimeOut(sid) };
    if (action === 'hangup') return { status: 200, json: await carrier.hangUp(sid) };
  }
  if (segments[0] === 'emails' && segments.length === 3 && segments[2] === 'unsubscribe') {
    return { status: 200, json: await carrier.oneClickUnsubscribe(segments[1]) };
  }
  throw new CarrierUsageError(404, `nothing at POST ${url.pathname}`);
}
