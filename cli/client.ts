import { DEV_API_KEY } from '../dev/dev-env';

/** Exit codes scripts can rely on (docs/cli.md). */
export const EXIT = {
  ok: 0,
  usage: 1,
  unreachable: 2,
  auth: 3,
  rejected: 4,
  notFound: 5,
  server: 6,
  /** `ledger verify` found a broken chain. */
  ledgerBroken: 7,
} as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface ApiTarget {
  apiUrl: string;
  apiKey: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Where the API is and which key to use. The dev key is a default only for an API on this machine
 * (the local stack's): anywhere else a missing key is a usage error, never a silent guess.
 */
export function resolveTarget(opts: { apiUrl?: string; apiKey?: string }, env: NodeJS.ProcessEnv): ApiTarget {
  const apiUrl = (opts.apiUrl || env.OPTINFLOW_API_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new CliError(EXIT.usage, `--api-url "${apiUrl}" is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  const apiKey = opts.apiKey || env.OPTINFLOW_API_KEY || (LOOPBACK.has(url.hostname) ? DEV_API_KEY : undefined);
  if (!apiKey) throw new CliError(EXIT.usage, `no API key for ${url.origin}: pass --api-key or set OPTINFLOW_API_KEY`);
  return { apiUrl, apiKey };
}

export interface RequestOptions {
  body?: unknown;
  csv?: string | Buffer;
  query?: Record<string, string | undefined>;
}

/** One API call; every failure becomes a CliError with the exit code for its kind. */
export async function callApi<T = any>(target: ApiTarget, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL(`${target.apiUrl}${path}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${target.apiKey}`, accept: 'application/json' };
  let payload: string | Buffer | undefined;
  if (opts.csv !== undefined) {
    headers['content-type'] = 'text/csv';
    payload = opts.csv;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new CliError(EXIT.unreachable, `cannot reach the Optinflow API at ${target.apiUrl} (${why}); is it running? Set --api-url or OPTINFLOW_API_URL`);
  }
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page: keep the text for the message.
  }
  if (res.ok) return body as T;
  throw refusal(res, body);
}

/** The CliError for an API answer that is not a success, with the exit code for its kind. */
function refusal(res: Response, body: any): CliError {
  const message = typeof body === 'object' && body?.message ? body.message : `${res.status} ${res.statusText}`;
  if (res.status === 401 || res.status === 403) return new CliError(EXIT.auth, `the API refused the key (${res.status}): ${message}. Check --api-key or OPTINFLOW_API_KEY`, body);
  if (res.status === 404) return new CliError(EXIT.notFound, message, body);
  if (res.status >= 400 && res.status < 500) return new CliError(EXIT.rejected, message, body);
  return new CliError(EXIT.server, `the API failed (${res.status}): ${message}`, body);
}

/** A GET whose answer is read as it arrives (an export): the response when it succeeded, else the CliError. */
export async function openApiStream(target: ApiTarget, path: string, query: Record<string, string | undefined>): Promise<Response> {
  const url = new URL(`${target.apiUrl}${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${target.apiKey}` } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(EXIT.unreachable, `cannot reach the Optinflow API at ${target.apiUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? Set --api-url or OPTINFLOW_API_URL`);
  }
  if (res.ok && res.body) return res;
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text for the message.
  }
  throw refusal(res, body);
}
