/**
 * The WhatsApp Cloud API client: `POST /{version}/{phone-number-id}/messages` with a bearer token.
 * Errors keep Meta's code so the send activity can tell a rate limit (retry) from a refusal, and a
 * network failure keeps its errno so a refused connection is retried rather than called ambiguous.
 */

export interface MetaClientOptions {
  accessToken: string;
  /** https://graph.facebook.com in production; the local carrier in dev and tests. */
  graphBaseUrl: string;
  /** Per-request timeout; Temporal owns retries, so a hung request should fail fast. */
  timeoutMs?: number;
}

export interface MetaSendRequest {
  phoneNumberId: string;
  apiVersion: string;
  body: Record<string, unknown>;
}

/** Meta's throttling codes: the request was refused before anything was sent, so it may be retried. */
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131056]);
const DEFAULT_TIMEOUT_MS = 15_000;

/** A Graph API error answer: `status` is the HTTP status, `code` Meta's error code (131047, 130429, ...). */
export class MetaApiError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.retryable = code !== undefined && RATE_LIMIT_CODES.has(code);
  }
}

/** A network failure before any answer, carrying the errno (ECONNREFUSED, ...) the send activity classifies. */
class MetaNetworkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function networkError(err: unknown): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new MetaNetworkError('the Graph API did not answer in time', 'ETIMEDOUT');
  return new MetaNetworkError(`Graph API request failed: ${e?.cause?.message ?? e?.message ?? String(err)}`, e?.cause?.code);
}

export function createMetaClient(opts: MetaClientOptions) {
  const base = opts.graphBaseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** Sends one message; resolves with its wamid once Meta accepted it. */
  async function send(request: MetaSendRequest): Promise<{ wamid: string }> {
    const url = `${base}/${request.apiVersion}/${encodeURIComponent(request.phoneNumberId)}/messages`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw networkError(err);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw networkError(err);
    }
    let json: { error?: { code?: number; message?: string }; messages?: Array<{ id?: string }> } | undefined;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const code = typeof json?.error?.code === 'number' ? json.error.code : undefined;
      throw new MetaApiError(response.status, code, json?.error?.message ?? `Graph API answered ${response.status}`);
    }
    const wamid = json?.messages?.[0]?.id;
    // Meta answered 2xx without an id: it may well have the message, so this is not safe to resend.
    if (!wamid) throw new MetaApiError(502, undefined, 'the Graph API accepted the send but named no message id');
    return { wamid };
  }

  return { send };
}

export type MetaClient = ReturnType<typeof createMetaClient>;
