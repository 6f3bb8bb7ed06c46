/** Public shapes of the local carrier: what tests and the dev page read and drive. */

import type { CallFilter, CarrierCall } from './call-types';
import type { MetaCarrierOptions, MetaNumberState, MetaQuality, MetaTier, MetaWebhookDelivery } from './meta-types';

export type Channel = 'sms' | 'whatsapp';

/** Anything with pino's `(fields, message)` call shape. */
export interface CarrierLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
}

export interface QuickReply {
  payload: string;
  text: string;
}

/** What a Content API template looks like to the contact, so the page can show real text. */
export interface ContentTemplate {
  /** Text with `{{1}}`, `{{name}}` placeholders filled from ContentVariables. */
  text: string;
  buttons?: QuickReply[];
}

export interface CarrierOptions {
  host?: string;
  httpPort?: number;
  smtpPort?: number;
  accountSid: string;
  authToken: string;
  /** Our API's messaging webhook; inbound messages are POSTed here. */
  inboundMessageUrl?: string;
  /** Status callback for calls created without their own StatusCallback. */
  voiceStatusUrl?: string;
  /** Pause between status steps (queued, sent, delivered; call answered). Default 50 ms. */
  statusCallbackDelayMs?: number;
  /** ContentSids that are approved WhatsApp templates; undefined means every ContentSid is one. */
  templateContentSids?: string[];
  contentTemplates?: Record<string, ContentTemplate>;
  /** The Graph API (WhatsApp Cloud API) side: numbers, templates, secrets and where webhooks go. */
  meta?: MetaCarrierOptions;
  logger?: CarrierLogger;
}

export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';
export type MessageDirection = 'outbound-api' | 'outbound-reply' | 'inbound';

export interface WebhookDelivery {
  url: string;
  /** HTTP status of the receiver, 0 when it could not be reached. */
  httpStatus: number;
  at: string;
  params: Record<string, string>;
  error?: string;
}

export interface CarrierMessage {
  sid: string;
  accountSid: string;
  direction: MessageDirection;
  channel: Channel;
  /** Exactly as Twilio shows it, `whatsapp:` prefix included. */
  from: string;
  to: string;
  /** The contact's E.164 number (the far end, without channel prefix). */
  contact: string;
  /** Our number (the near end, without channel prefix). */
  sender: string;
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  /** What the contact reads: the body, or the template rendered with its variables. */
  renderedText: string;
  /** Set for messages sent or received through the Graph API: the id is a wamid, webhooks are Meta's. */
  provider?: 'meta';
  /** Meta only: what kind of message we sent (a button reply answers a template or an interactive message differently). */
  metaType?: 'template' | 'interactive' | 'text';
  /** Quick replies the page offers for this message. */
  buttons: QuickReply[];
  buttonPayload: string | null;
  buttonText: string | null;
  numSegments: number;
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  statusCallback: string | null;
  statusHistory: Array<{ status: MessageStatus; at: string; errorCode: number | null }>;
  callbacks: WebhookDelivery[];
  /** For inbound messages: what our webhook answered. */
  webhook: WebhookDelivery | null;
  createdAt: string;
  updatedAt: string;
}

export interface CarrierEmail {
  id: string;
  messageId: string | null;
  /** Envelope sender. */
  from: string;
  /** Envelope recipients, lower-cased. */
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  /** Header lines keyed by lower-cased name, e.g. `list-unsubscribe`, `list-unsubscribe-post`. */
  headers: Record<string, string>;
  links: string[];
  receivedAt: string;
}

export interface RecipientBehaviour {
  /**
   * Twilio error code. Codes below 30000 (21211, 21610, 21614, ...) reject the API request with
   * HTTP 400; others (30003, 30007, 63016, ...) are accepted and fail later in a status callback.
   */
  failWith?: number;
  deliveryStatus?: 'undelivered' | 'failed';
  /**
   * Meta: a WhatsApp error code (131026 undeliverable, 131050 stopped marketing, ...) with which the
   * carrier accepts the send (a wamid) and then reports it failed in a `statuses` webhook.
   */
  metaFailWith?: number;
  /** The contact has texted STOP to Twilio: sends are rejected with 21610. */
  unsubscribed?: boolean;
  /** How calls to this contact end before the TwiML runs. */
  callOutcome?: 'busy' | 'no-answer' | 'failed';
}

export interface Fault {
  /** `meta`: the Graph API's sends (429 answers 130429, 500/503 Graph's transient errors). */
  target: 'messages' | 'calls' | 'meta' | 'any';
  /** Which requests it applies to: creates (POST to the list) or reads (GET). Default: every request. */
  request?: 'create' | 'read';
  status?: 429 | 500 | 503;
  /** Delay before answering. Without `status` the request is processed first, then answered late. */
  delayMs?: number;
  /**
   * With `status`: the request takes effect first and the error is answered after it, as when Twilio
   * created the message but failed to say so. Without it a `status` fault changes nothing.
   */
  applied?: boolean;
  /** A message created by the faulted request sends no status callbacks (they were lost on the way). */
  noCallbacks?: boolean;
  /** How many matching requests it applies to. Default 1. */
  times?: number;
}

export interface InboundInput {
  from: string;
  to: string;
  body?: string;
  buttonPayload?: string;
  buttonText?: string;
  /** Defaults to whatsapp when either address has the `whatsapp:` prefix, else sms. */
  channel?: Channel;
  profileName?: string;
}

export interface InboundResult {
  messageSid: string;
  /** HTTP status our webhook answered, 0 when it could not be reached. */
  status: number;
  responseBody: string;
  /** Whether the webhook went over a new connection or a kept-alive one (./webhook-client.ts). */
  connection?: 'new' | 'reused';
}

export interface WebhookResult {
  status: number;
  responseBody: string;
  connection?: 'new' | 'reused';
}

export interface MessageFilter {
  to?: string;
  from?: string;
  contact?: string;
  channel?: Channel;
  direction?: MessageDirection;
}

export interface Carrier {
  httpUrl: string;
  smtpPort: number;
  close(): Promise<void>;
  messages(filter?: MessageFilter): CarrierMessage[];
  calls(filter?: CallFilter): CarrierCall[];
  emails(filter?: { to?: string }): CarrierEmail[];
  reset(): void;
  setInboundMessageUrl(url: string): void;
  /** Where Meta's webhooks go (our `POST /webhooks/meta`). */
  setMetaWebhookUrl(url: string): void;
  sendInbound(input: InboundInput): Promise<InboundResult>;
  pressKeys(callSid: string, digits: string): Promise<CarrierCall>;
  letGatherTimeOut(callSid: string): Promise<CarrierCall>;
  hangUp(callSid: string): Promise<CarrierCall>;
  /** What a mail client does for RFC 8058 one-click unsubscribe: POST `List-Unsubscribe=One-Click`. */
  oneClickUnsubscribe(emailId: string): Promise<WebhookResult>;
  setRecipientBehaviour(phone: string, behaviour: RecipientBehaviour): void;
  injectFault(fault: Fault): void;
  /** Meta numbers as they stand (quality rating, messaging limit tier). */
  metaNumbers(): MetaNumberState[];
  /** Every Meta webhook sent so far, oldest first. */
  metaWebhooks(filter?: { field?: string }): MetaWebhookDelivery[];
  /** The contact stops or resumes marketing messages from this business number inside WhatsApp. */
  setMarketingPreference(contact: string, businessNumber: string, value: 'stop' | 'resume'): Promise<WebhookResult>;
  /** Meta changes the number's quality rating or messaging limit; a `phone_number_quality_update` webhook says so. */
  updateMetaNumber(phoneNumberId: string, change: { quality?: MetaQuality; tier?: MetaTier }): Promise<WebhookResult>;
  /** An `account_update` webhook (e.g. ACCOUNT_VIOLATION, DISABLED_UPDATE). */
  sendAccountUpdate(phoneNumberId: string, event: string): Promise<WebhookResult>;
  /** Polls until the predicate (sync or async) gives something truthy. */
  waitFor<T>(predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
}
