/** The webhooks the carrier's WhatsApp Cloud API sends: signed as Meta signs them, and kept for inspection. */
import { CarrierUsageError } from './errors';
import type { CarrierRuntime } from './runtime';
import type { MetaCarrierOptions, MetaNumberState, MetaWebhookDelivery } from './meta-types';
import type { WebhookResult } from './types';
import { metaSignature } from './webhook-client';

export class MetaWebhooks {
  private readonly deliveries: MetaWebhookDelivery[] = [];

  constructor(
    private readonly runtime: CarrierRuntime,
    private readonly options: MetaCarrierOptions,
  ) {}

  clear(): void {
    this.deliveries.length = 0;
  }

  list(filter: { field?: string } = {}): MetaWebhookDelivery[] {
    return this.deliveries.filter((d) => filter.field === undefined || d.field === filter.field).map((d) => ({ ...d }));
  }

  metadata(number: MetaNumberState) {
    return { display_phone_number: number.displayNumber.slice(1), phone_number_id: number.phoneNumberId };
  }

  /** Sends one webhook as Meta does: one entry for the business account, one change of one field. */
  async notify(number: MetaNumberState, field: string, value: Record<string, unknown>): Promise<WebhookResult> {
    const url = this.options.webhookUrl;
    if (!url) throw new CarrierUsageError(409, 'no Meta webhook URL is set (meta.webhookUrl / CARRIER_META_WEBHOOK_URL)');
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: number.wabaId, time: Math.floor(Date.now() / 1000), changes: [{ value, field }] }] });
    const response = await this.runtime.webhooks.postMetaJson(url, body, this.options.appSecret);
    const delivery: MetaWebhookDelivery = { field, url, body, signature: metaSignature(this.options.appSecret, body), httpStatus: response.status, at: new Date().toISOString() };
    if (response.error) delivery.error = response.error;
    this.deliveries.push(delivery);
    if (!this.runtime.closed && (response.status === 0 || response.status >= 400)) this.runtime.log.warn({ url, field, status: response.status, error: response.error }, 'Meta webhook was not accepted');
    return { status: response.status, responseBody: response.body, connection: response.connection };
  }
}
