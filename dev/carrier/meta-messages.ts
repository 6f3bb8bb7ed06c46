import { randomBytes } from 'node:crypto';
import type { MetaSend } from './meta-validate';
import { formatAddress } from './runtime';
import type { MetaNumberState, MetaTier } from './meta-types';
import type { CarrierMessage, QuickReply } from './types';

/** The carrier's records of Graph API messages, and Meta's messaging limit tiers. */

export function wamid(): string {
  return `wamid.${randomBytes(24).toString('base64url')}`;
}

export function unixSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

function record(number: MetaNumberState, contact: string, fields: Partial<CarrierMessage> & Pick<CarrierMessage, 'direction' | 'status' | 'body'>): CarrierMessage {
  const now = new Date().toISOString();
  const ours = formatAddress('whatsapp', number.displayNumber);
  const theirs = formatAddress('whatsapp', contact);
  return {
    sid: wamid(),
    accountSid: number.wabaId,
    channel: 'whatsapp',
    from: fields.direction === 'inbound' ? theirs : ours,
    to: fields.direction === 'inbound' ? ours : theirs,
    contact,
    sender: number.displayNumber,
    contentSid: null,
    contentVariables: null,
    renderedText: fields.body,
    buttons: [],
    buttonPayload: null,
    buttonText: null,
    numSegments: 1,
    errorCode: null,
    errorMessage: null,
    statusCallback: null,
    statusHistory: [{ status: fields.status, at: now, errorCode: null }],
    callbacks: [],
    webhook: null,
    createdAt: now,
    updatedAt: now,
    provider: 'meta',
    ...fields,
  };
}

/** A message our API sent through the Graph API, as the contact will see it. */
export function outboundMessage(number: MetaNumberState, send: MetaSend): CarrierMessage {
  return record(number, send.to, {
    direction: 'outbound-api',
    status: 'queued',
    body: send.text,
    contentSid: send.kind === 'template' ? `${send.name} (${send.language})` : null,
    buttons: send.buttons,
    metaType: send.kind,
  });
}

/** A message from the contact: text, or a tap on a button. */
export function inboundMessage(number: MetaNumberState, from: string, text: string, tapped: QuickReply | undefined): CarrierMessage {
  return record(number, from, { direction: 'inbound', status: 'received', body: text, buttonPayload: tapped?.payload ?? null, buttonText: tapped?.text ?? null });
}

const TIER_LIMITS: Record<MetaTier, number | 'unlimited'> = { TIER_250: 250, TIER_1K: 1000, TIER_10K: 10_000, TIER_100K: 100_000, TIER_UNLIMITED: 'unlimited' };

export function tierRank(tier: MetaTier): number {
  return Object.keys(TIER_LIMITS).indexOf(tier);
}

export function tierLimit(tier: MetaTier): string {
  return String(TIER_LIMITS[tier]);
}
