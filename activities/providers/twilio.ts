import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';
import type { Twilio } from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient';

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Base URL that replaces every `https://*.twilio.com` origin, e.g. the local carrier's URL. */
  apiBaseUrl?: string;
  /** Per-request timeout; Temporal owns retries, so a hung request should fail fast. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

function isTwilioHost(hostname: string): boolean {
  return hostname === 'twilio.com' || hostname.endsWith('.twilio.com');
}

/**
 * The SDK's own request client, with every Twilio origin swapped for another base URL. Subclassing
 * keeps the SDK's serialisation, auth and RestException mapping exactly as they are in production.
 */
export class RedirectingRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiBaseUrl: string, timeoutMs: number) {
    // Temporal retries failed activities; the SDK's own 429 retry would hide rate limits from it.
    super({ timeout: timeoutMs, autoRetry: false });
    this.base = new URL(apiBaseUrl);
    // The parent only configures an https agent; the carrier in dev speaks plain http.
    this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, timeout: timeoutMs });
    if (this.base.protocol === 'https:') {
      this.axios.defaults.httpsAgent = new https.Agent({ keepAlive: true, timeout: timeoutMs });
    }
  }

  rewrite(uri: string): string {
    const original = new URL(uri);
    if (!isTwilioHost(original.hostname)) return uri;
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return `${this.base.origin}${prefix}${original.pathname}${original.search}`;
  }

  override request<TData>(opts: SdkRequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: this.rewrite(opts.uri) });
  }
}

export function createTwilioClient(opts: TwilioClientOptions): Twilio {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const httpClient = opts.apiBaseUrl
    ? new RedirectingRequestClient(opts.apiBaseUrl, timeoutMs)
    : new twilio.RequestClient({ timeout: timeoutMs, autoRetry: false });
  return twilio(opts.accountSid, opts.authToken, { httpClient });
}

interface RestExceptionLike {
  status: number;
  code?: number;
}

function asRestException(err: unknown): RestExceptionLike | undefined {
  if (err instanceof twilio.RestException) return err;
  // A second copy of the SDK (jest module registries, nested installs) breaks instanceof.
  if (typeof err === 'object' && err !== null && err.constructor?.name === 'RestException') {
    const candidate = err as Partial<RestExceptionLike>;
    if (typeof candidate.status === 'number') return candidate as RestExceptionLike;
  }
  return undefined;
}

/** Twilio's error code (21211, 21610, 20429, ...) of a failed API call, if it was one. */
export function twilioErrorCode(err: unknown): number | undefined {
  const code = asRestException(err)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The HTTP status of a failed Twilio API call, if the API answered at all. */
export function twilioHttpStatus(err: unknown): number | undefined {
  return asRestException(err)?.status;
}
