import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Business } from '../domain/business';
import { verifyPageToken, type PageTokenPayload, type PageTokenPurpose, type TokenCheck } from '../lib/tokens';
import type { ApiDeps } from './app';
import { HttpError } from './errors';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.5}
h1{font-size:1.4rem}fieldset{border:1px solid #ccd;border-radius:8px;padding:1rem;margin:1rem 0}legend{padding:0 .3rem}
label{display:block;margin:.5rem 0}input[type=checkbox],input[type=radio]{width:1.15rem;height:1.15rem;vertical-align:-.2rem;margin-right:.4rem}
input[type=tel]{font-size:1rem;padding:.5rem;border:1px solid #888;border-radius:6px;width:100%;max-width:20rem;box-sizing:border-box}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #888;margin:.3rem .6rem .3rem 0;cursor:pointer;background:#f4f5f7}
button.primary{background:#128c7e;color:#fff;border-color:#128c7e}button.danger{background:#fff;color:#b3261e;border-color:#b3261e}
.muted{color:#5a6270;font-size:.9rem}.error{color:#b3261e;border-left:4px solid #b3261e;padding:.3rem .8rem;background:#fdf1f0}
.notice{border-left:4px solid #128c7e;padding:.3rem .8rem;background:#eef8f6}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.toggle{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.4rem 0;border-bottom:1px solid #eef}
.toggle:last-of-type{border-bottom:0}.toggle input{appearance:none;width:2.8rem;height:1.6rem;border-radius:1rem;background:#c5c9d0;position:relative;flex:none;margin:0;cursor:pointer}
.toggle input::after{content:"";position:absolute;top:.2rem;left:.2rem;width:1.2rem;height:1.2rem;border-radius:50%;background:#fff;transition:left .15s}
.toggle input:checked{background:#128c7e}.toggle input:checked::after{left:1.4rem}.toggle input:focus-visible{outline:2px solid #1b1f24;outline-offset:2px}`;

/** A plain, accessible page that works without JavaScript. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

/**
 * Every hosted page goes out through here. Pages carry tokens in their URL and personal choices in
 * their body: no caching, no referrer leaking the token, no framing (a framed Confirm button could
 * be clicked for someone), no script at all, and no guessing another type than HTML.
 */
export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .type('text/html; charset=utf-8')
    .send(page(title, body));
}

/** A page that says what went wrong and what, if anything, the person can do about it. */
export function sendProblemPage(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  return sendPage(reply, status, title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}

const TOKEN_PROBLEM: Record<Exclude<TokenCheck, { ok: true }>['reason'], { status: number; title: string; text: string }> = {
  expired: { status: 410, title: 'This link has expired', text: 'The request this link belongs to has ended. Nothing was changed.' },
  bad_signature: { status: 403, title: 'This link is not valid', text: 'The link may have been copied incompletely. Nothing was changed.' },
  malformed: { status: 400, title: 'This link is not valid', text: 'The link may have been copied incompletely. Nothing was changed.' },
  wrong_purpose: { status: 400, title: 'This link is not valid', text: 'This link belongs to a different page. Nothing was changed.' },
};

/** The longest page token read; a longer one is refused by the router already (api/app.ts maxParamLength). */
export const PAGE_TOKEN_MAX = 4096;

const tokenParams = z.object({ token: z.string().min(10).max(PAGE_TOKEN_MAX) });

export interface CheckedToken {
  payload: PageTokenPayload;
  business: Business;
  token: string;
}

/** Verifies a page link's token; on any problem the problem page is already sent and undefined returned. */
export function checkPageToken(deps: Pick<ApiDeps, 'pageTokenSecret' | 'businesses'>, reply: FastifyReply, rawParams: unknown, purpose: PageTokenPurpose): CheckedToken | undefined {
  const params = tokenParams.safeParse(rawParams);
  if (!params.success) {
    sendProblemPage(reply, 400, 'This link is not valid', 'The link may have been copied incompletely. Nothing was changed.');
    return undefined;
  }
  const check = verifyPageToken(deps.pageTokenSecret, params.data.token, purpose);
  if (!check.ok) {
    const p = TOKEN_PROBLEM[check.reason];
    sendProblemPage(reply, p.status, p.title, p.text);
    return undefined;
  }
  const business = deps.businesses.get(check.payload.b);
  if (!business) {
    sendProblemPage(reply, 404, 'This link is not valid', 'The business this link belongs to is not known here. Nothing was changed.');
    return undefined;
  }
  return { payload: check.payload, business, token: params.data.token };
}

/** Hosted pages answer people, not programs: errors become pages, and 5xx pages say nothing internal. */
export function pageErrorHandler(this: FastifyInstance, err: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500);
  if (status >= 400 && status < 500) return sendProblemPage(reply, status, 'We could not read that request', `${err.message}. Nothing was changed.`);
  request.log.error({ err }, 'page request failed');
  return sendProblemPage(reply, 503, 'Something went wrong on our side', 'Please try again in a few minutes.');
}

/** Hosted pages' paths: a problem there is answered with a page. */
const PAGE_PATH = /^\/(?:[cup]|b\/[^/]+)\//;

/**
 * Fastify's refusals of a URL before any route sees it (a segment longer than PAGE_TOKEN_MAX, broken
 * percent-encoding). A page link gets the problem page a person can read, anything else a short JSON
 * answer; neither echoes the URL back.
 */
export function urlProblemHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = err.statusCode ?? 400;
  if (PAGE_PATH.test(request.url ?? '')) return sendProblemPage(reply, status, 'This link is not valid', 'The link may have been copied incompletely. Nothing was changed.');
  const message = status === 414 ? `a part of the path is longer than ${PAGE_TOKEN_MAX} characters` : 'the path is not a valid URL';
  return reply.status(status).header('x-content-type-options', 'nosniff').send({ error: status === 414 ? 'uri_too_long' : 'bad_url', message });
}
