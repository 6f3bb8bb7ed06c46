import type http from 'node:http';
import { z } from 'zod';
import { TwilioApiError } from './errors';
import { sentAtOf, type Messaging } from './messaging';
import { type CarrierRuntime, type FormParams, first } from './runtime';
import type { CarrierMessage, Fault } from './types';
import type { Voice } from './voice';

const TWILIO_RESOURCE = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)(?:\/([^/]+))?\.json$/;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export const faultSchema = z.object({
  target: z.enum(['messages', 'calls', 'meta', 'any']),
  request: z.enum(['create', 'read']).optional(),
  status: z.union([z.literal(429), z.literal(500), z.literal(503)]).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  applied: z.boolean().optional(),
  noCallbacks: z.boolean().optional(),
  times: z.number().int().min(1).optional(),
});

const faultCodes: Record<number, number> = { 429: 20429, 500: 20500, 503: 20503 };

export interface ApiReply {
  status: number;
  json: unknown;
}

type RequestKind = 'create' | 'read' | 'update';

/**
 * A `DateSent` bound as Twilio takes it: a GMT day (`2024-03-04`, that day's midnight) or an instant
 * (`2024-03-04T10:00:00Z`, what twilio-node sends for `dateSentAfter`).
 */
function parseDateBound(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : Date.parse(raw);
  if (Number.isNaN(value)) throw new TwilioApiError(400, 20001, `Invalid ${name}: ${raw}`);
  return value;
}

/** `DateSent`, `DateSent<` and `DateSent>` of Twilio's message list: on that day, on or before, on or after. */
function sentDateFilter(params: FormParams): (m: CarrierMessage) => boolean {
  const onDay = parseDateBound(first(params, 'DateSent'), 'DateSent');
  const before = parseDateBound(first(params, 'DateSent<'), 'DateSent<');
  const after = parseDateBound(first(params, 'DateSent>'), 'DateSent>');
  return (m) => {
    const at = Date.parse(sentAtOf(m));
    return (onDay === undefined || (at >= onDay && at < onDay + DAY_MS)) && (before === undefined || at <= before) && (after === undefined || at >= after);
  };
}

/**
 * Twilio's REST API as the carrier serves it: Basic auth with the account's credentials, the faults a
 * test injected, and the Messages and Calls resources (create, fetch, list, update a call).
 */
export class TwilioRestApi {
  private faults: Array<Fault & { remaining: number }> = [];

  constructor(
    private readonly runtime: CarrierRuntime,
    private readonly messaging: Messaging,
    private readonly voice: Voice,
  ) {}

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async handle(req: http.IncomingMessage, url: URL, method: string, params: FormParams): Promise<ApiReply> {
    const match = TWILIO_RESOURCE.exec(url.pathname);
    const notFound = () => new TwilioApiError(404, 20404, `The requested resource ${url.pathname} was not found`);
    if (!match) throw notFound();
    const [, accountSid, collection, sid] = match;
    this.authenticate(req, accountSid);

    const kind: RequestKind = method === 'GET' ? 'read' : sid ? 'update' : 'create';
    const fault = this.takeFault(collection === 'Messages' ? 'messages' : 'calls', kind);
    if (fault?.status && !fault.applied) {
      if (fault.delayMs) await this.runtime.sleep(fault.delayMs);
      throw new TwilioApiError(fault.status, faultCodes[fault.status]);
    }
    const query = method === 'GET' ? Object.fromEntries(url.searchParams) : params;
    const reply = await this.resource(url, collection, sid, method, query, fault?.noCallbacks === true, notFound);
    // The request has taken effect; only the answer is late (Twilio slow but not down), or it is lost
    // in an error (Twilio created the message, then failed to say so).
    if (fault?.delayMs) await this.runtime.sleep(fault.delayMs);
    if (fault?.status) throw new TwilioApiError(fault.status, faultCodes[fault.status]);
    return reply;
  }

  private authenticate(req: http.IncomingMessage, pathAccountSid: string): void {
    const { accountSid, authToken } = this.runtime.options;
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    const user = decoded.slice(0, separator);
    const password = decoded.slice(separator + 1);
    const ok = separator > 0 && user === accountSid && password === authToken && pathAccountSid === accountSid;
    if (!ok) throw new TwilioApiError(401, 20003);
  }

  private takeFault(resource: 'messages' | 'calls', kind: RequestKind): Fault | undefined {
    const fault = this.faults.find((f) => (f.target === 'any' || f.target === resource) && (f.request === undefined || f.request === kind));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private async resource(url: URL, collection: string, sid: string | undefined, method: string, params: FormParams, silent: boolean, notFound: () => Error): Promise<ApiReply> {
    if (collection === 'Messages') {
      if (!sid && method === 'POST') return { status: 201, json: this.messaging.toResource(this.messaging.create(params, { silent })) };
      if (!sid && method === 'GET') return this.messageList(url, params);
      const message = sid && method === 'GET' ? this.messaging.get(sid) : undefined;
      if (!message) throw notFound();
      return { status: 200, json: this.messaging.toResource(message) };
    }
    if (!sid && method === 'POST') return { status: 201, json: this.voice.toResource(this.voice.create(params)) };
    if (!sid && method === 'GET') return this.callList(url, params);
    if (sid && method === 'POST') return { status: 200, json: this.voice.toResource(await this.voice.update(sid, params)) };
    const call = sid && method === 'GET' ? this.voice.get(sid) : undefined;
    if (!call) throw notFound();
    return { status: 200, json: this.voice.toResource(call) };
  }

  /** GET Messages.json: `To`, `From` and the `DateSent` bounds, newest first, paged like Twilio. */
  private messageList(url: URL, params: FormParams): ApiReply {
    const inDates = sentDateFilter(params);
    const found = this.messaging
      .list({ to: first(params, 'To') || undefined, from: first(params, 'From') || undefined })
      .filter(inDates)
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    return this.page(url, params, 'messages', found.map((m) => this.messaging.toResource(m)));
  }

  /** GET Calls.json: `To` and `From`, newest first. */
  private callList(url: URL, params: FormParams): ApiReply {
    const found = this.voice
      .list({ to: first(params, 'To') || undefined, from: first(params, 'From') || undefined })
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    return this.page(url, params, 'calls', found.map((c) => this.voice.toResource(c)));
  }

  private page(url: URL, params: FormParams, key: string, all: unknown[]): ApiReply {
    const size = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(first(params, 'PageSize')) || DEFAULT_PAGE_SIZE));
    const page = Math.max(0, Number(first(params, 'Page')) || 0);
    const items = all.slice(page * size, (page + 1) * size);
    const uriFor = (n: number) => {
      const q = new URLSearchParams(url.searchParams);
      q.set('PageSize', String(size));
      q.set('Page', String(n));
      return `${url.pathname}?${q.toString()}`;
    };
    return {
      status: 200,
      json: {
        [key]: items,
        uri: uriFor(page),
        first_page_uri: uriFor(0),
        next_page_uri: (page + 1) * size < all.length ? uriFor(page + 1) : null,
        previous_page_uri: page > 0 ? uriFor(page - 1) : null,
        page,
        page_size: size,
        start: page * size,
        end: page * size + Math.max(0, items.length - 1),
      },
    };
  }
}
