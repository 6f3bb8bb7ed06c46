import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { CarrierUsageError, TwilioApiError } from './errors';
import { startMailbox } from './mailbox';
import type { Mailbox } from './mailbox';
import { MetaGraph } from './meta';
import { GraphApiError } from './meta-validate';
import { Messaging } from './messaging';
import { contactAnchor, renderPage } from './page';
import { faultSchema, TwilioRestApi } from './rest-api';
import { CarrierRuntime, FormParams, parseAddress } from './runtime';
import type {
  Carrier,
  CarrierCall,
  CarrierEmail,
  CarrierLogger,
  CarrierOptions,
  Fault,
  InboundInput,
  MetaNumberState,
  MetaQuality,
  MetaTier,
  MetaWebhookDelivery,
  RecipientBehaviour,
  WebhookResult,
} from './types';
import { Voice } from './voice';
import { WebhookClient } from './webhook-client';

export type * from './types';

const MAX_BODY_BYTES = 1_000_000;

const silentLogger: CarrierLogger = { info: () => undefined, warn: () => undefined };

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
const preferenceSchema = z.object({ from: z.string().min(1), to: z.string().min(1), value: z.enum(['stop', 'resume']) });
const numberChangeSchema = z.object({ quality: metaQualitySchema.optional(), tier: metaTierSchema.optional() });

interface Reply {
  status: number;
  json?: unknown;
  html?: string;
  redirect?: string;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new CarrierUsageError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseForm(raw: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

function parseJsonOrForm(raw: string, contentType: string): unknown {
  if (contentType.includes('application/json')) {
    try {
      return raw ? JSON.parse(raw) : {};
    } catch {
      throw new CarrierUsageError(400, 'body is not valid JSON');
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new CarrierUsageError(400, why);
  }
  return parsed.data;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

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
  }

  async start(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    const server = http.createServer((req, res) => void this.handle(req, res));
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
    return this.messaging.inbound(input);
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (err) {
      if (err instanceof TwilioApiError || err instanceof GraphApiError) reply = { status: err.httpStatus, json: err.toJSON() };
      else if (err instanceof CarrierUsageError) reply = { status: err.httpStatus, json: { error: err.message } };
      else {
        this.runtime.log.warn({ err: String(err), url: req.url }, 'carrier request failed');
        reply = { status: 500, json: { error: 'internal carrier error' } };
      }
    }
    if (res.destroyed) return;
    if (reply.redirect) {
      res.writeHead(303, { Location: reply.redirect }).end();
    } else if (reply.html !== undefined) {
      res.writeHead(reply.status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(reply.html);
    } else if (reply.json === undefined) {
      res.writeHead(reply.status).end();
    } else {
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply.json));
    }
  }

  private async route(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://carrier.local');
    const method = req.method ?? 'GET';
    const raw = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');

    if (url.pathname.startsWith('/2010-04-01/')) return this.restApi.handle(req, url, method, parseForm(raw));
    if (this.meta?.handles(url.pathname)) return this.meta.handle(req, url, method, raw);
    if (url.pathname.startsWith('/_carrier/')) return this.inspectionApi(url, method, parseJsonOrForm(raw, contentType));
    if (url.pathname.startsWith('/ui/') && method === 'POST') return this.ui(url, Object.fromEntries(new URLSearchParams(raw)));
    if (url.pathname === '/' && method === 'GET') {
      return {
        status: 200,
        html: renderPage({
          messages: this.messaging.list(),
          calls: this.voice.list(),
          emails: this.emails(),
          notice: url.searchParams.get('notice'),
          inboundUrl: this.runtime.options.inboundMessageUrl,
          metaNumbers: this.metaNumbers(),
          httpUrl: this.httpUrl,
          smtpPort: this.smtpPort,
        }),
      };
    }
    return { status: 404, json: { error: `no route ${method} ${url.pathname}` } };
  }

  private async inspectionApi(url: URL, method: string, body: unknown): Promise<Reply> {
    const path = url.pathname.replace(/^\/_carrier/, '');
    const q = (name: string) => url.searchParams.get(name) ?? undefined;
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);

    if (method === 'GET') {
      if (path === '/health') return { status: 200, json: { ok: true } };
      if (path === '/messages') {
        const channel = q('channel');
        return {
          status: 200,
          json: this.messages({ to: q('to'), from: q('from'), contact: q('contact'), channel: channel === 'sms' || channel === 'whatsapp' ? channel : undefined }),
        };
      }
      if (path === '/calls') return { status: 200, json: this.calls({ to: q('to'), from: q('from') }) };
      if (path === '/meta/numbers') return { status: 200, json: this.metaNumbers() };
      if (path === '/meta/webhooks') return { status: 200, json: this.metaWebhooks({ field: q('field') }) };
      if (path === '/emails') return { status: 200, json: this.emails({ to: q('to') }) };
      if (segments[0] === 'messages' && segments.length === 2) {
        const found = this.messaging.get(segments[1]);
        if (found) return { status: 200, json: found };
      }
      if (segments[0] === 'calls' && segments.length === 2) {
        const found = this.voice.get(segments[1]);
        if (found) return { status: 200, json: found };
      }
      throw new CarrierUsageError(404, `nothing at ${url.pathname}`);
    }
    if (method !== 'POST') throw new CarrierUsageError(405, `${method} is not supported here`);

    if (path === '/reset') {
      this.reset();
      return { status: 204 };
    }
    if (path === '/inbound') return { status: 200, json: await this.sendInbound(validate(inboundSchema, body)) };
    if (path === '/inbound-url') {
      this.setInboundMessageUrl(validate(z.object({ url: z.url() }), body).url);
      return { status: 204 };
    }
    if (path === '/meta/webhook-url') {
      this.setMetaWebhookUrl(validate(z.object({ url: z.url() }), body).url);
      return { status: 204 };
    }
    if (path === '/meta/preferences') {
      const p = validate(preferenceSchema, body);
      return { status: 200, json: await this.setMarketingPreference(p.from, p.to, p.value) };
    }
    if (segments[0] === 'meta' && segments[1] === 'numbers' && segments.length === 3) {
      return { status: 200, json: await this.updateMetaNumber(segments[2], validate(numberChangeSchema, body)) };
    }
    if (segments[0] === 'meta' && segments[1] === 'numbers' && segments[3] === 'account-update' && segments.length === 4) {
      return { status: 200, json: await this.sendAccountUpdate(segments[2], validate(z.object({ event: z.string().min(1).max(64) }), body).event) };
    }
    if (path === '/faults') {
      this.injectFault(validate(faultSchema, body));
      return { status: 204 };
    }
    if (segments[0] === 'recipients' && segments.length === 2) {
      this.setRecipientBehaviour(segments[1], validate(behaviourSchema, body));
      return { status: 204 };
    }
    if (segments[0] === 'calls' && segments.length === 3) {
      const [, sid, action] = segments;
      if (action === 'digits') return { status: 200, json: await this.pressKeys(sid, validate(z.object({ digits: z.string().min(1) }), body).digits) };
      if (action === 'timeout') return { status: 200, json: await this.letGatherTimeOut(sid) };
      if (action === 'hangup') return { status: 200, json: await this.hangUp(sid) };
    }
    if (segments[0] === 'emails' && segments.length === 3 && segments[2] === 'unsubscribe') {
      return { status: 200, json: await this.oneClickUnsubscribe(segments[1]) };
    }
    throw new CarrierUsageError(404, `nothing at POST ${url.pathname}`);
  }

  /** Form posts from the page: act, then send the browser back to the contact it was looking at. */
  private async ui(url: URL, form: Record<string, string>): Promise<Reply> {
    const back = (notice: string, anchor?: string): Reply => ({
      status: 303,
      redirect: `/?notice=${encodeURIComponent(notice)}${anchor ? `#${encodeURIComponent(anchor)}` : ''}`,
    });
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (url.pathname === '/ui/reset') {
        this.reset();
        return back('Cleared all messages, calls and e-mails.');
      }
      if (url.pathname === '/ui/inbound') {
        const input: InboundInput = { from: form.from ?? '', to: form.to ?? '', channel: form.channel === 'whatsapp' ? 'whatsapp' : 'sms' };
        if (form.button) {
          const button = JSON.parse(form.button) as { payload?: unknown; text?: unknown };
          input.buttonPayload = String(button.payload ?? '');
          input.buttonText = String(button.text ?? '');
        } else {
          input.body = form.body ?? '';
        }
        const result = await this.sendInbound(input);
        const what = input.buttonText ? `Tapped “${input.buttonText}”` : `Sent “${input.body}”`;
        const answer = result.status ? `our webhook answered ${result.status}` : 'our webhook could not be reached';
        return back(`${what} as ${input.from}: ${answer}.`, form.anchor || contactAnchor(parseAddress(input.from).number));
      }
      if (url.pathname === '/ui/meta/preferences') {
        const p = validate(preferenceSchema, form);
        const result = await this.setMarketingPreference(p.from, p.to, p.value);
        const what = p.value === 'stop' ? 'Stopped marketing messages' : 'Resumed marketing messages';
        return back(`${what} as ${p.from}: our webhook answered ${result.status || 'nothing'}.`, contactAnchor(parseAddress(p.from).number));
      }
      if (segments[1] === 'meta' && segments[2] === 'numbers' && segments.length === 4) {
        const change = validate(numberChangeSchema, { quality: form.quality || undefined, tier: form.tier || undefined });
        const result = await this.updateMetaNumber(segments[3], change);
        return back(`Number ${segments[3]} is now ${change.quality ?? ''}${change.tier ?? ''}: our webhook answered ${result.status || 'nothing'}.`);
      }
      if (segments[1] === 'calls' && segments.length === 4) {
        const [, , sid, action] = segments;
        const call =
          action === 'digits'
            ? await this.pressKeys(sid, form.digits ?? '')
            : action === 'timeout'
              ? await this.letGatherTimeOut(sid)
              : action === 'hangup'
                ? await this.hangUp(sid)
                : undefined;
        if (call) {
          const done = action === 'digits' ? `Pressed ${form.digits}` : action === 'timeout' ? 'Let the prompt time out' : 'Hung up';
          return back(`${done}; the call is ${call.status}.`, contactAnchor(call.to));
        }
      }
      if (segments[1] === 'emails' && segments[3] === 'unsubscribe') {
        const result = await this.oneClickUnsubscribe(segments[2]);
        return back(`One-click unsubscribe sent; the site answered ${result.status || 'nothing'}.`);
      }
    } catch (err) {
      return back(`That did not work: ${err instanceof Error ? err.message : String(err)}`, form.anchor);
    }
    return back(`Unknown action ${url.pathname}.`);
  }
}

/** Starts the local Twilio + SMTP stand-in; resolves once both listeners accept connections. */
export async function startCarrier(opts: CarrierOptions): Promise<Carrier> {
  const carrier = new LocalCarrier(opts);
  await carrier.start();
  return carrier;
}
