import { randomBytes } from 'node:crypto';
import type { CarrierLogger, Channel, ContentTemplate, RecipientBehaviour, WebhookDelivery } from './types';
import type { SignedResponse, WebhookClient } from './webhook-client';
import { CarrierUsageError } from './errors';

export type FormParams = Record<string, string | string[]>;

export interface ResolvedOptions {
  accountSid: string;
  authToken: string;
  inboundMessageUrl: string | null;
  voiceStatusUrl: string | null;
  statusCallbackDelayMs: number;
  templateContentSids: Set<string> | null;
  contentTemplates: Record<string, ContentTemplate>;
}

export const API_VERSION = '2010-04-01';

const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

export interface Address {
  channel: Channel;
  number: string;
}

export function parseAddress(raw: string): Address {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase().startsWith('whatsapp:')) return { channel: 'whatsapp', number: trimmed.slice('whatsapp:'.length) };
  return { channel: 'sms', number: trimmed };
}

export function formatAddress(channel: Channel, number: string): string {
  return channel === 'whatsapp' ? `whatsapp:${number}` : number;
}

export function twilioSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Twilio's resource dates: RFC 2822 with a numeric zone, e.g. `Mon, 04 Mar 2024 10:00:00 +0000`. */
export function rfc2822(iso: string | null): string | null {
  return iso ? new Date(iso).toUTCString().replace('GMT', '+0000') : null;
}

export function first(params: FormParams, key: string): string | undefined {
  const value = params[key];
  return Array.isArray(value) ? value[0] : value;
}

export function all(params: FormParams, key: string): string[] {
  const value = params[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** State and services shared by the messaging and voice halves of the carrier. */
export class CarrierRuntime {
  closed = false;
  readonly behaviours = new Map<string, RecipientBehaviour>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  constructor(
    readonly options: ResolvedOptions,
    readonly webhooks: WebhookClient,
    readonly log: CarrierLogger,
  ) {}

  /** Resolves early when the carrier closes, so pending status chains can notice and stop. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  behaviourFor(number: string): RecipientBehaviour {
    return this.behaviours.get(parseAddress(number).number) ?? {};
  }

  async post(method: 'GET' | 'POST', url: string, params: Record<string, string>): Promise<{ response: SignedResponse; delivery: WebhookDelivery }> {
    const response = await this.webhooks.request(method, url, params);
    const delivery: WebhookDelivery = { url, httpStatus: response.status, at: new Date().toISOString(), params };
    if (response.error) delivery.error = response.error;
    if (!this.closed && (response.status === 0 || response.status >= 400)) {
      this.log.warn({ url, status: response.status, error: response.error }, 'carrier webhook was not accepted');
    }
    return { response, delivery };
  }

  requireInboundUrl(): string {
    if (!this.options.inboundMessageUrl) throw new CarrierUsageError(409, 'no inbound message URL is set (inboundMessageUrl / CARRIER_INBOUND_URL)');
    return this.options.inboundMessageUrl;
  }

  shutdown(): void {
    this.closed = true;
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
  }
}
