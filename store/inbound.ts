import type { InboundMessageInput } from '../workflows/inbound/contract';
import { keepInboundMessage } from './journeys';
import type { Store } from './models';
import { inboundProof } from './payloads';
import { upsertContact } from './queries';

/** Keeps an inbound message once (keyed by MessageSid), also from unknown contacts; a WhatsApp message opens the service window. */
export async function recordInboundMessage(store: Store, input: InboundMessageInput, routedTo: string): Promise<void> {
  const at = new Date(input.receivedAt);
  // An SMS answer a running journey took needs no contact write: the journey wrote the contact as it
  // began, or will with its first send. Anything else may come from someone we never wrote down.
  if (input.channel === 'whatsapp') await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone }, { whatsappInboundAt: at });
  else if (routedTo !== 'journey') await upsertContact(store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone });
  await keepInboundMessage(store, {
    _id: input.messageSid,
    businessId: input.businessId,
    contactId: input.contactId,
    channel: input.channel,
    from: input.phone,
    intent: input.intent,
    routedTo,
    receivedAt: at,
    payload: await inboundProof(store, input),
    payloadRef: input.payloadRef,
  });
}
