import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CarrierUsageError } from './errors';
import { hostForUrl } from './http';
import { receiveInbound } from './inbound-messages';
import { startMailbox } from './mailbox';
import type { Mailbox } from './mailbox';
import { MetaGraph } from './meta';
import { Messaging } from './messaging';
import { TwilioRestApi } from './rest-api';
import { handleRequest, type CarrierParts } from './routes';
import { CarrierRuntime, parseAddress } from './runtime';
import type { CarrierCall } from './call-types';
import type { MetaNumberState, MetaQuality, MetaTier, MetaWebhookDelivery } from './meta-types';
import type {
  Carrier,
  CarrierEmail,
  CarrierLogger,
  CarrierOptions,
  Fault,
  InboundInput,
  RecipientBehaviour,
  WebhookResult,
} from './types';
import { Voice } from './voice';
import { WebhookClient } from './webhook-client';

export type * from './types';
export type * from './meta-types';
export type * from './call-types';

const silentLogger: CarrierLogger = { info: () => undefined, warn: () => undefined };

class LocalCarrier implements Carrier {
  httpUrl = '';
  smtpPort = 0;
  private readonly runtime: CarrierRuntime;
  private readonly messaging: Messaging;
  private readonly voice: Voice;
  private readonly webhooks: WebhookClient;
  private readonly restApi: TwilioRestApi;
  private readonly meta: MetaGraph | null;
  private readonly mail: CarrierEmail[] = [];
  private readonly parts: CarrierParts;
  private server: http.Server | null = null;
  private mailbox: Mailbox | null = null;

  constructor(private readonly opts: CarrierOptions) {
    this.webhooks = new WebhookClient(opts.authToken);
    this.runtime = new CarrierRuntime(
      {
        accountSid: opts.accountSid,
        authToken: opts.authToken,
        inboundMessageUrl: opts.inboundMessageUrl ?? null,
        voiceStatusUrl: opts.voiceStatusUrl ?? null,
        statusCallbackDelayMs: opts.statusCallbackDelayMs ?? 50,
        templateContentSids: opts.templateContentSids ? new Set(opts.templateContentSids) : null,
        contentTemplates: opts.contentTemplates ?? {},
      },
      this.webhooks,
      opts.logger ?? silentLogger,
    );
    this.messaging = new Messaging(this.runtime);
    this.voice = new Voice(this.runtime);
    this.restApi = new TwilioRestApi(this.runtime, this.messaging, this.voice);
    this.meta = opts.meta ? new MetaGraph(this.runtime, this.messaging, { ...opts.meta }) : null;
    this.parts = { carrier: this, runtime: this.runtime, messaging: this.messaging, voice: this.voice, restApi: this.restApi, meta: this.meta };
  }

  async start(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    const server = http.createServer((req, res) => void handleRequest(this.parts, req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.httpPort ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.httpUrl = `http://${hostForUrl(host)}:${(server.address() as AddressInfo).port}`;
    try {
      this.mailbox = await startMailbox(host, this.opts.smtpPort ?? 0, (email) => {
        this.mail.push(email);
        this.runtime.log.info({ to: email.to, subject: email.subject }, 'carrier received an e-mail');
      });
    } catch (err) {
      await this.closeHttp();
      throw err;
    }
    this.smtpPort = this.mailbox.port;
  }

  private closeHttp(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async close(): Promise<void> {
    this.runtime.shutdown();
    this.webhooks.close();
    const mailbox = this.mailbox;
    this.mailbox = null;
    await Promise.all([this.closeHttp(), mailbox?.close()]);
  }

  messages(filter?: Parameters<Carrier['messages']>[0]) {
    return this.messaging.list(filter);
  }

  calls(filter?: Parameters<Carrier['calls']>[0]) {
    return this.voice.list(filter);
  }

  emails(filter: { to?: string } = {}): CarrierEmail[] {
    const to = filter.to?.toLowerCase();
    return this.mail.filter((e) => to === undefined || e.to.includes(to)).map((e) => structuredClone(e));
  }

  reset(): void {
    this.messaging.reset();
    this.voice.reset();
    this.mail.length = 0;
    this.restApi.clearFaults();
    this.meta?.reset();
    this.runtime.behaviours.clear();
  }

  private requireMeta(): MetaGraph {
    if (!this.meta) throw new CarrierUsageError(409, 'the carrier was started without Meta numbers (options.meta)');
    return this.meta;
  }

  setMetaWebhookUrl(url: string): void {
    this.requireMeta().setWebhookUrl(url);
  }

  metaNumbers(): MetaNumberState[] {
    return this.meta?.list() ?? [];
  }

  metaWebhooks(filter?: { field?: string }): MetaWebhookDelivery[] {
    return this.meta?.webhooks(filter) ?? [];
  }

  setMarketingPreference(contact: string, businessNumber: string, value: 'stop' | 'resume'): Promise<WebhookResult> {
    return this.requireMeta().setMarketingPreference(contact, businessNumber, value);
  }

  updateMetaNumber(phoneNumberId: string, change: { quality?: MetaQuality; tier?: MetaTier }): Promise<WebhookResult> {
    return this.requireMeta().updateNumber(phoneNumberId, change);
  }

  sendAccountUpdate(phoneNumberId: string, event: string): Promise<WebhookResult> {
    return this.requireMeta().accountUpdate(phoneNumberId, event);
  }

  setInboundMessageUrl(url: string): void {
    this.runtime.options.inboundMessageUrl = url;
  }

  sendInbound(input: InboundInput) {
    const metaNumber = this.meta?.numberFor(input.to ?? '');
    if (this.meta && metaNumber) return this.meta.inbound(metaNumber, input);
    return receiveInbound(this.runtime, this.messaging, input);
  }

  pressKeys(callSid: string, digits: string): Promise<CarrierCall> {
    return this.voice.pressKeys(callSid, digits);
  }

  letGatherTimeOut(callSid: string): Promise<CarrierCall> {
    return this.voice.letGatherTimeOut(callSid);
  }

  hangUp(callSid: string): Promise<CarrierCall> {
    return this.voice.hangUp(callSid);
  }

  async oneClickUnsubscribe(emailId: string): Promise<WebhookResult> {
    const email = this.mail.find((e) => e.id === emailId);
    if (!email) throw new CarrierUsageError(404, `no e-mail ${emailId}`);
    const target = /<(https?:[^>]+)>/i.exec(email.headers['list-unsubscribe'] ?? '')?.[1];
    if (!target || !email.headers['list-unsubscribe-post']) {
      throw new CarrierUsageError(409, 'the e-mail has no List-Unsubscribe https URL with List-Unsubscribe-Post');
    }
    const response = await this.webhooks.request('POST', target, { 'List-Unsubscribe': 'One-Click' }, { signed: false });
    return { status: response.status, responseBody: response.body };
  }

  setRecipientBehaviour(phone: string, behaviour: RecipientBehaviour): void {
    const number = parseAddress(phone).number;
    const clean = Object.fromEntries(Object.entries(behaviour).filter(([, v]) => v !== undefined)) as RecipientBehaviour;
    if (Object.keys(clean).length === 0) this.runtime.behaviours.delete(number);
    else this.runtime.behaviours.set(number, clean);
  }

  injectFault(fault: Fault): void {
    if (fault.target === 'meta') this.requireMeta().injectFault(fault);
    else this.restApi.injectFault(fault);
  }

  async waitFor<T>(predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`carrier.waitFor: condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Starts the local Twilio + SMTP stand-in; resolves once both listeners accept connections. */
export async function startCarrier(opts: CarrierOptions): Promise<Carrier> {
  const carrier = new LocalCarrier(opts);
  await carrier.start();
  return carrier;
}
