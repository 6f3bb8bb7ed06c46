/** The carrier's HTTP side: which part answers each request, and the reply its errors become. */
import type http from 'node:http';
import { CarrierUsageError, TwilioApiError } from './errors';
import { parseForm, parseJsonOrForm, readBody, writeReply, type Reply } from './http';
import { inspectionApi } from './inspection-api';
import type { MetaGraph } from './meta';
import { GraphApiError } from './meta-validate';
import type { Messaging } from './messaging';
import { renderPage } from './page';
import { pageFormAction } from './page-actions';
import type { TwilioRestApi } from './rest-api';
import type { CarrierRuntime } from './runtime';
import type { Carrier } from './types';
import type { Voice } from './voice';

/** What answers the carrier's requests. */
export interface CarrierParts {
  carrier: Carrier;
  runtime: CarrierRuntime;
  messaging: Messaging;
  voice: Voice;
  restApi: TwilioRestApi;
  meta: MetaGraph | null;
}

export async function handleRequest(parts: CarrierParts, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(parts, req);
  } catch (err) {
    if (err instanceof TwilioApiError || err instanceof GraphApiError) reply = { status: err.httpStatus, json: err.toJSON() };
    else if (err instanceof CarrierUsageError) reply = { status: err.httpStatus, json: { error: err.message } };
    else {
      parts.runtime.log.warn({ err: String(err), url: req.url }, 'carrier request failed');
      reply = { status: 500, json: { error: 'internal carrier error' } };
    }
  }
  if (res.destroyed) return;
  writeReply(res, reply);
}

async function route(parts: CarrierParts, req: http.IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://carrier.local');
  const method = req.method ?? 'GET';
  const raw = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
  const contentType = String(req.headers['content-type'] ?? '');

  if (url.pathname.startsWith('/2010-04-01/')) return parts.restApi.handle(req, url, method, parseForm(raw));
  if (parts.meta?.handles(url.pathname)) return parts.meta.handle(req, url, method, raw);
  if (url.pathname.startsWith('/_carrier/')) return inspectionApi(parts.carrier, { messaging: parts.messaging, voice: parts.voice }, url, method, parseJsonOrForm(raw, contentType));
  if (url.pathname.startsWith('/ui/') && method === 'POST') return pageFormAction(parts.carrier, url, Object.fromEntries(new URLSearchParams(raw)));
  if (url.pathname === '/' && method === 'GET') {
    return {
      status: 200,
      html: renderPage({
        messages: parts.messaging.list(),
        calls: parts.voice.list(),
        emails: parts.carrier.emails(),
        notice: url.searchParams.get('notice'),
        inboundUrl: parts.runtime.options.inboundMessageUrl,
        metaNumbers: parts.carrier.metaNumbers(),
        httpUrl: parts.carrier.httpUrl,
        smtpPort: parts.carrier.smtpPort,
      }),
    };
  }
  return { status: 404, json: { error: `no route ${method} ${url.pathname}` } };
}
