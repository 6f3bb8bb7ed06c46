import type http from 'node:http';
import { CarrierUsageError } from './errors';
import { inboundMessage, outboundMessage, tierLimit, tierRank, unixSeconds } from './meta-messages';
import { GraphApiError, metaErrorTitle, parseMetaSend, type MetaSend } from './meta-validate';
import type { Messaging } from './messaging';
import { type CarrierRuntime, isE164, parseAddress } from './runtime';
import type {
  MetaCarrierOptions,
  MetaNumberState,
  MetaQuality,
  MetaTier,
  MetaWebhookDelivery,
} from './meta-types';
import type {
  CarrierMessage,
  Fault,
  InboundInput,
  InboundResult,
  WebhookResult,
} from './types';
import { MetaWebhooks } from './meta-webhooks';

const SEND_PATH = /^\/(v\d+\.\d+)\/([^/]+)\/messages$/;
const NUMBER_PATH = /^\/(v\d+\.\d+)\/(\d+)$/;
const faultCodes: Record<number, number> = { 429: 130429, 500: 1, 503: 2 };

export interface GraphReply {
  status: number;
  json: unknown;
}

type StatusStep = { status: 'sent' | 'delivered' | 'failed'; errorCode?: number };

/**
 * The WhatsApp Cloud API as the carrier serves it: `POST /{version}/{phone-number-id}/messages` with a
 * bearer token, answering wamids; the `statuses` that follow, inbound messages and button replies,
 * marketing stops and number quality changes, all as Meta's webhooks signed with the app secret.
 */
export class MetaGraph {
  private readonly numbers = new Map<string, MetaNumberState>();
  /** Contacts who stopped marketing from a number (`+contact|phone-number-id`): its marketing templates fail with 131050. */
  private readonly stoppedMarketing = new Set<string>();
  private faults: Array<Fault & { remaining: number }> = [];
  private readonly hooks: MetaWebhooks;

  constructor(
    private readonly runtime: CarrierRuntime,
    private readonly messaging: Messaging,
    private readonly options: MetaCarrierOptions,
  ) {
    this.hooks = new MetaWebhooks(runtime, options);
    for (const n of options.numbers) {
      this.numbers.set(n.phoneNumberId, { phoneNumberId: n.phoneNumberId, displayNumber: n.displayNumber, wabaId: n.wabaId ?? `9${n.phoneNumberId}`, quality: 'GREEN', tier: 'TIER_1K' });
    }
  }

  setWebhookUrl(url: string): void {
    this.options.webhookUrl = url;
  }

  get webhookUrl(): string | null {
    return this.options.webhookUrl ?? null;
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  reset(): void {
    this.faults = [];
    this.hooks.clear();
    this.stoppedMarketing.clear();
  }

  list(): MetaNumberState[] {
    return [...this.numbers.values()].map((n) => ({ ...n }));
  }

  webhooks(filter: { field?: string } = {}): MetaWebhookDelivery[] {
    return this.hooks.list(filter);
  }

  /** The number a contact writes to, if it is one of Meta's. */
  numberFor(displayNumber: string): MetaNumberState | undefined {
    const number = parseAddress(displayNumber).number;
    return [...this.numbers.values()].find((n) => n.displayNumber === number);
  }

  handles(pathname: string): boolean {
    return SEND_PATH.test(pathname) || NUMBER_PATH.test(pathname);
  }

  async handle(req: http.IncomingMessage, url: URL, method: string, raw: string): Promise<GraphReply> {
    this.authenticate(req);
    const number = NUMBER_PATH.exec(url.pathname);
    if (number && method === 'GET') {
      const state = this.numbers.get(number[2]);
      if (!state) throw new GraphApiError(400, 100, `Object with ID '${number[2]}' does not exist`);
      return { status: 200, json: { id: state.phoneNumberId, display_phone_number: state.displayNumber.slice(1), quality_rating: state.quality, messaging_limit_tier: state.tier } };
    }
    const send = SEND_PATH.exec(url.pathname);
    if (!send || method !== 'POST') throw new GraphApiError(400, 100, `Unsupported ${method} request to ${url.pathname}`);
    const state = this.numbers.get(send[2]);
    if (!state) throw new GraphApiError(400, 100, `Object with ID '${send[2]}' does not exist`);

    const fault = this.takeFault();
    if (fault?.status && !fault.applied) {
      if (fault.delayMs) await this.runtime.sleep(fault.delayMs);
      throw new GraphApiError(fault.status === 429 ? 400 : fault.status, faultCodes[fault.status]);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new GraphApiError(400, 100, 'the body is not JSON');
    }
    const message = this.create(state, parseMetaSend(body, this.options.templates), fault?.noCallbacks === true);
    if (fault?.delayMs) await this.runtime.sleep(fault.delayMs);
    if (fault?.status) throw new GraphApiError(fault.status === 429 ? 400 : fault.status, faultCodes[fault.status]);
    return { status: 200, json: { messaging_product: 'whatsapp', contacts: [{ input: message.contact.slice(1), wa_id: message.contact.slice(1) }], messages: [{ id: message.sid, message_status: 'accepted' }] } };
  }

  private authenticate(req: http.IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    if (header !== `Bearer ${this.options.accessToken}`) throw new GraphApiError(401, 190, 'the access token is missing or wrong');
  }

  private takeFault(): Fault | undefined {
    const fault = this.faults.find((f) => f.request === undefined || f.request === 'create');
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private create(number: MetaNumberState, send: MetaSend, silent: boolean): CarrierMessage {
    const message = outboundMessage(number, send);
    this.messaging.add(message);
    void this.progress(number, message, this.plan(number, send), send.callbackData, silent);
    return message;
  }

  /** What happens after the API accepted the send: WhatsApp's own reasons to fail it, or delivery. */
  private plan(number: MetaNumberState, send: MetaSend): StatusStep[] {
    if (send.kind !== 'template' && !this.messaging.insideWindow(send.to, number.displayNumber)) return [{ status: 'failed', errorCode: 131047 }];
    const behaviour = this.runtime.behaviourFor(send.to);
    if (behaviour.metaFailWith !== undefined) return [{ status: 'failed', errorCode: behaviour.metaFailWith }];
    if (send.kind === 'template' && send.category === 'MARKETING' && this.stoppedMarketing.has(`${send.to}|${number.phoneNumberId}`)) return [{ status: 'failed', errorCode: 131050 }];
    return [{ status: 'sent' }, { status: 'delivered' }];
  }

  private async progress(number: MetaNumberState, message: CarrierMessage, steps: StatusStep[], callbackData: string | undefined, silent: boolean): Promise<void> {
    for (const step of steps) {
      await this.runtime.sleep(this.runtime.options.statusCallbackDelayMs);
      if (this.runtime.closed || this.messaging.get(message.sid) !== message) return;
      const at = new Date().toISOString();
      message.status = step.status;
      message.updatedAt = at;
      message.statusHistory.push({ status: step.status, at, errorCode: step.errorCode ?? null });
      if (step.errorCode !== undefined) {
        message.errorCode = step.errorCode;
        message.errorMessage = metaErrorTitle(step.errorCode);
      }
      if (silent) continue;
      const status: Record<string, unknown> = { id: message.sid, status: step.status, timestamp: unixSeconds(), recipient_id: message.contact.slice(1) };
      if (callbackData !== undefined) status.biz_opaque_callback_data = callbackData;
      if (step.errorCode !== undefined) {
        status.errors = [{ code: step.errorCode, title: metaErrorTitle(step.errorCode), message: metaErrorTitle(step.errorCode), error_data: { details: metaErrorTitle(step.errorCode) } }];
      }
      await this.hooks.notify(number, 'messages', { messaging_product: 'whatsapp', metadata: this.hooks.metadata(number), statuses: [status] });
    }
  }

  /** A message from the contact: text, a tap on a template's quick reply, or on an interactive button. */
  async inbound(number: MetaNumberState, input: InboundInput): Promise<InboundResult> {
    const from = parseAddress(input.from).number;
    if (!isE164(from)) throw new CarrierUsageError(400, `from must be an E.164 number, got ${JSON.stringify(input.from)}`);
    const tapped = input.buttonPayload || input.buttonText;
    const answered = tapped ? this.lastWithButton(from, number.displayNumber, input.buttonPayload ?? '', input.buttonText ?? '') : undefined;
    const text = input.body ?? input.buttonText ?? input.buttonPayload ?? '';
    const message = inboundMessage(number, from, text, tapped ? { payload: input.buttonPayload ?? input.buttonText ?? '', text: input.buttonText ?? input.buttonPayload ?? '' } : undefined);
    this.messaging.add(message);
    this.messaging.openWindow(from, number.displayNumber);

    const payload: Record<string, unknown> = { from: from.slice(1), id: message.sid, timestamp: unixSeconds() };
    if (tapped && answered?.metaType === 'interactive') {
      Object.assign(payload, { type: 'interactive', context: { from: number.displayNumber.slice(1), id: answered.sid }, interactive: { type: 'button_reply', button_reply: { id: message.buttonPayload, title: message.buttonText } } });
    } else if (tapped) {
      Object.assign(payload, { type: 'button', button: { payload: message.buttonPayload, text: message.buttonText } }, answered ? { context: { from: number.displayNumber.slice(1), id: answered.sid } } : {});
    } else {
      Object.assign(payload, { type: 'text', text: { body: text } });
    }
    const value = { messaging_product: 'whatsapp', metadata: this.hooks.metadata(number), contacts: [{ profile: { name: input.profileName ?? 'Dev Contact' }, wa_id: from.slice(1) }], messages: [payload] };
    const result = await this.hooks.notify(number, 'messages', value);
    message.webhook = { url: this.options.webhookUrl ?? '', httpStatus: result.status, at: new Date().toISOString(), params: {} };
    return { messageSid: message.sid, status: result.status, responseBody: result.responseBody, connection: result.connection };
  }

  private lastWithButton(contact: string, sender: string, payload: string, text: string): CarrierMessage | undefined {
    return this.messaging
      .list({ contact, direction: 'outbound-api' })
      .filter((m) => m.sender === sender && m.buttons.some((b) => b.payload === payload || b.text === text))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  }

  async setMarketingPreference(contact: string, businessNumber: string, value: 'stop' | 'resume'): Promise<WebhookResult> {
    const number = this.numberFor(businessNumber);
    if (!number) throw new CarrierUsageError(404, `${businessNumber} is not a Meta number of the carrier`);
    const waId = parseAddress(contact).number;
    if (!isE164(waId)) throw new CarrierUsageError(400, `contact must be an E.164 number, got ${JSON.stringify(contact)}`);
    const key = `${waId}|${number.phoneNumberId}`;
    if (value === 'stop') this.stoppedMarketing.add(key);
    else this.stoppedMarketing.delete(key);
    const detail = value === 'stop' ? 'User requested to stop marketing messages' : 'User requested to resume marketing messages';
    return this.hooks.notify(number, 'user_preferences', {
      messaging_product: 'whatsapp',
      metadata: this.hooks.metadata(number),
      contacts: [{ profile: { name: 'Dev Contact' }, wa_id: waId.slice(1) }],
      user_preferences: [{ wa_id: waId.slice(1), detail, category: 'marketing_messages', value, timestamp: Number(unixSeconds()) }],
    });
  }

  async updateNumber(phoneNumberId: string, change: { quality?: MetaQuality; tier?: MetaTier }): Promise<WebhookResult> {
    const number = this.numbers.get(phoneNumberId);
    if (!number) throw new CarrierUsageError(404, `no Meta number ${phoneNumberId}`);
    const oldTier = number.tier;
    let event: string;
    if (change.tier && change.tier !== oldTier) {
      number.tier = change.tier;
      event = tierRank(change.tier) > tierRank(oldTier) ? 'UPGRADE' : 'DOWNGRADE';
    } else if (change.quality) {
      event = change.quality === 'GREEN' ? 'UNFLAGGED' : 'FLAGGED';
    } else {
      throw new CarrierUsageError(400, 'say which quality or tier the number gets');
    }
    if (change.quality) number.quality = change.quality;
    const value: Record<string, unknown> = { display_phone_number: number.displayNumber.slice(1), event, current_limit: number.tier, max_daily_conversations_per_business: tierLimit(number.tier) };
    if (event === 'UPGRADE' || event === 'DOWNGRADE') value.old_limit = oldTier;
    return this.hooks.notify(number, 'phone_number_quality_update', value);
  }

  async accountUpdate(phoneNumberId: string, event: string): Promise<WebhookResult> {
    const number = this.numbers.get(phoneNumberId);
    if (!number) throw new CarrierUsageError(404, `no Meta number ${phoneNumberId}`);
    return this.hooks.notify(number, 'account_update', { phone_number: number.displayNumber.slice(1), event });
  }
}
