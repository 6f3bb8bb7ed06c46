import { TwilioApiError, twilioErrorMessage } from './errors';
import { API_VERSION, CarrierRuntime, FormParams, first, formatAddress, isE164, parseAddress, rfc2822, twilioSid } from './runtime';
import type { CarrierMessage, MessageFilter, MessageStatus, QuickReply } from './types';

const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_BODY_CHARS = 1600;
const DEFAULT_BUTTONS: QuickReply[] = [
  { payload: 'yes', text: 'Yes' },
  { payload: 'no', text: 'No' },
];

const gsm7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

export function segmentsOf(body: string): number {
  if (body.length === 0) return 1;
  const [single, multi] = gsm7.test(body) ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}

function parseContentVariables(raw: string | undefined): Record<string, string> | null {
  if (raw === undefined || raw === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TwilioApiError(400, 21656);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TwilioApiError(400, 21656);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

function windowKey(contact: string, sender: string): string {
  return `${contact}|${sender}`;
}

function matches(message: CarrierMessage, filter: MessageFilter): boolean {
  return (
    (filter.to === undefined || message.to === filter.to) &&
    (filter.from === undefined || message.from === filter.from) &&
    (filter.contact === undefined || message.contact === parseAddress(filter.contact).number) &&
    (filter.channel === undefined || message.channel === filter.channel) &&
    (filter.direction === undefined || message.direction === filter.direction)
  );
}

/**
 * When the message left for the handset. A message still queued counts from its creation: the carrier
 * sends within milliseconds, so a lookup by sent date right after a create sees it either way.
 */
export function sentAtOf(message: CarrierMessage): string {
  return message.statusHistory.find((s) => s.status !== 'queued')?.at ?? message.createdAt;
}

interface DeliveryPlan {
  final: MessageStatus;
  errorCode: number | null;
}

/** Twilio's Programmable Messaging as our API sees it: the Messages resource and its status callbacks (inbound webhooks: ./inbound-messages.ts). */
export class Messaging {
  private readonly store = new Map<string, CarrierMessage>();
  private readonly lastInbound = new Map<string, number>();

  constructor(private readonly runtime: CarrierRuntime) {}

  list(filter: MessageFilter = {}): CarrierMessage[] {
    return [...this.store.values()].filter((m) => matches(m, filter)).map((m) => structuredClone(m));
  }

  get(sid: string): CarrierMessage | undefined {
    return this.store.get(sid);
  }

  reset(): void {
    this.store.clear();
    this.lastInbound.clear();
  }

  /** Keeps a message made elsewhere (the Graph API side), so lists and the page show it with the rest. */
  add(message: CarrierMessage): void {
    this.store.set(message.sid, message);
  }

  /** A WhatsApp message from the contact opens the 24-hour window for this business number. */
  openWindow(contact: string, sender: string): void {
    this.lastInbound.set(windowKey(contact, sender), Date.now());
  }

  /** `silent`: the message sends no status callbacks, as when they are lost on the way to us. */
  create(params: FormParams, opts: { silent?: boolean } = {}): CarrierMessage {
    const rawTo = first(params, 'To');
    const rawFrom = first(params, 'From');
    if (!rawTo) throw new TwilioApiError(400, 21604);
    if (!rawFrom) throw new TwilioApiError(400, 21603);
    const to = parseAddress(rawTo);
    const from = parseAddress(rawFrom);
    if (!isE164(to.number)) throw new TwilioApiError(400, 21211, `The 'To' number ${rawTo} is not a valid phone number.`);
    if (!isE164(from.number)) throw new TwilioApiError(400, 21212, `The 'From' number ${rawFrom} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    if (to.channel !== from.channel) throw new TwilioApiError(400, 21910);

    const body = first(params, 'Body') ?? '';
    const contentSid = first(params, 'ContentSid') || null;
    if (!body && !contentSid) throw new TwilioApiError(400, 21602);
    if (body.length > MAX_BODY_CHARS) throw new TwilioApiError(400, 21617);
    const contentVariables = parseContentVariables(first(params, 'ContentVariables'));

    const behaviour = this.runtime.behaviourFor(to.number);
    if (behaviour.unsubscribed) throw new TwilioApiError(400, 21610);
    if (behaviour.failWith !== undefined && behaviour.failWith < 30000) throw new TwilioApiError(400, behaviour.failWith);

    const template = contentSid ? this.runtime.options.contentTemplates[contentSid] : undefined;
    const renderedText = contentSid ? this.renderContent(contentSid, contentVariables) : body;
    const now = new Date().toISOString();
    const message: CarrierMessage = {
      sid: twilioSid('SM'),
      accountSid: this.runtime.options.accountSid,
      direction: 'outbound-api',
      channel: to.channel,
      from: formatAddress(from.channel, from.number),
      to: formatAddress(to.channel, to.number),
      contact: to.number,
      sender: from.number,
      body: contentSid ? renderedText : body,
      contentSid,
      contentVariables,
      renderedText,
      buttons: template?.buttons ?? (contentSid && to.channel === 'whatsapp' ? DEFAULT_BUTTONS : []),
      buttonPayload: null,
      buttonText: null,
      numSegments: segmentsOf(contentSid ? renderedText : body),
      status: 'queued',
      errorCode: null,
      errorMessage: null,
      statusCallback: first(params, 'StatusCallback') || null,
      statusHistory: [{ status: 'queued', at: now, errorCode: null }],
      callbacks: [],
      webhook: null,
      createdAt: now,
      updatedAt: now,
    };
    this.store.set(message.sid, message);
    void this.progress(message, this.planDelivery(message), opts.silent === true);
    return message;
  }

  private renderContent(contentSid: string, variables: Record<string, string> | null): string {
    const template = this.runtime.options.contentTemplates[contentSid];
    if (template) return template.text.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (whole, key: string) => variables?.[key] ?? whole);
    const filled = Object.entries(variables ?? {}).map(([key, value]) => `{{${key}}} = ${value}`);
    return filled.length ? `Template ${contentSid} with ${filled.join(', ')}` : `Template ${contentSid}`;
  }

  private isTemplate(contentSid: string | null): boolean {
    if (!contentSid) return false;
    const templates = this.runtime.options.templateContentSids;
    return templates === null || templates.has(contentSid);
  }

  insideWindow(contact: string, sender: string): boolean {
    const last = this.lastInbound.get(windowKey(contact, sender));
    return last !== undefined && Date.now() - last < WHATSAPP_WINDOW_MS;
  }

  private planDelivery(message: CarrierMessage): DeliveryPlan {
    if (message.channel === 'whatsapp' && !this.isTemplate(message.contentSid) && !this.insideWindow(message.contact, message.sender)) {
      return { final: 'failed', errorCode: 63016 };
    }
    const behaviour = this.runtime.behaviourFor(message.contact);
    if (behaviour.failWith !== undefined || behaviour.deliveryStatus !== undefined) {
      const code = behaviour.failWith;
      const final = behaviour.deliveryStatus ?? (code !== undefined && code >= 60000 ? 'failed' : 'undelivered');
      return { final, errorCode: code ?? (final === 'failed' ? 30008 : 30003) };
    }
    return { final: 'delivered', errorCode: null };
  }

  private async progress(message: CarrierMessage, plan: DeliveryPlan, silent: boolean): Promise<void> {
    // A message is created queued, and Twilio sends no status callback for a message's initial
    // status (docs: "Outbound Message Status in Status Callbacks"): the callbacks start at the next one.
    const steps: Array<{ status: MessageStatus; errorCode: number | null }> = [];
    if (plan.final !== 'failed') steps.push({ status: 'sent', errorCode: null });
    steps.push({ status: plan.final, errorCode: plan.errorCode });
    for (const step of steps) {
      await this.runtime.sleep(this.runtime.options.statusCallbackDelayMs);
      if (this.runtime.closed || this.store.get(message.sid) !== message) return;
      const at = new Date().toISOString();
      message.status = step.status;
      message.updatedAt = at;
      if (step.errorCode !== null) {
        message.errorCode = step.errorCode;
        message.errorMessage = twilioErrorMessage(step.errorCode);
      }
      message.statusHistory.push({ status: step.status, at, errorCode: step.errorCode });
      if (message.statusCallback && !silent) {
        const { delivery } = await this.runtime.post('POST', message.statusCallback, this.statusParams(message));
        message.callbacks.push(delivery);
      }
    }
  }

  private statusParams(message: CarrierMessage): Record<string, string> {
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      To: message.to,
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: message.status,
      SmsStatus: message.status,
    };
    if (message.channel === 'whatsapp') {
      params.ChannelPrefix = 'whatsapp';
      params.ChannelToAddress = message.contact;
    }
    if (message.errorCode !== null) params.ErrorCode = String(message.errorCode);
    return params;
  }


  toResource(message: CarrierMessage): Record<string, unknown> {
    const uri = `/${API_VERSION}/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
    return {
      account_sid: message.accountSid,
      api_version: API_VERSION,
      body: message.body,
      date_created: rfc2822(message.createdAt),
      date_sent: message.status === 'queued' ? null : rfc2822(sentAtOf(message)),
      date_updated: rfc2822(message.updatedAt),
      direction: message.direction,
      error_code: message.errorCode,
      error_message: message.errorMessage,
      from: message.from,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: String(message.numSegments),
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: message.status,
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to: message.to,
      uri,
    };
  }
}
