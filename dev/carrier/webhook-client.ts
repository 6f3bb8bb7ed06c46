import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';

export interface SignedResponse {
  status: number;
  body: string;
  contentType: string;
  error?: string;
  /**
   * Whether the request went over a connection opened for it or one kept alive from an earlier
   * webhook. A receiver takes new connections at its own pace (Node takes one per event-loop turn),
   * so under load the two wait very differently.
   */
  connection?: 'new' | 'reused';
}

/** Twilio gives up on a webhook after 15 s. */
const WEBHOOK_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 1_000_000;

/**
 * Makes the requests Twilio makes to us (status callbacks, inbound messages, TwiML fetches), signed
 * the way Twilio signs them: HMAC-SHA1 over the exact URL plus the sorted POST parameters.
 */
export class WebhookClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(private readonly authToken: string) {}

  request(method: 'GET' | 'POST', url: string, params: Record<string, string>, opts: { signed?: boolean } = {}): Promise<SignedResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ status: 0, body: '', contentType: '', error: `invalid URL ${url}` });
    }
    let payload = '';
    let signedUrl = url;
    if (method === 'GET') {
      for (const [key, value] of Object.entries(params)) target.searchParams.append(key, value);
      signedUrl = target.href;
    } else {
      payload = new URLSearchParams(params).toString();
    }
    const signature = twilio.getExpectedTwilioSignature(this.authToken, signedUrl, method === 'GET' ? {} : params);
    const headers: Record<string, string> = { 'User-Agent': 'TwilioProxy/1.1', Accept: '*/*' };
    if (opts.signed !== false) headers['X-Twilio-Signature'] = signature;
    if (method === 'POST') {
      headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return this.send(method, target, headers, payload);
  }

  /**
   * What Meta's webhooks do: POST a JSON body with `X-Hub-Signature-256`, HMAC-SHA256 of the exact
   * bytes sent, keyed with the app secret. `appSecret: null` sends it unsigned.
   */
  postMetaJson(url: string, body: string, appSecret: string | null): Promise<SignedResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ status: 0, body: '', contentType: '', error: `invalid URL ${url}` });
    }
    const headers: Record<string, string> = { 'User-Agent': 'facebookexternalua', Accept: '*/*', 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
    if (appSecret !== null) headers['X-Hub-Signature-256'] = metaSignature(appSecret, body);
    return this.send('POST', target, headers, body);
  }

  private send(method: 'GET' | 'POST', target: URL, headers: Record<string, string>, payload: string): Promise<SignedResponse> {
    const isHttps = target.protocol === 'https:';
    return new Promise((settle) => {
      const resolve = (r: SignedResponse) => settle({ ...r, connection: req.reusedSocket ? 'reused' : 'new' });
      const req = (isHttps ? https : http).request(
        target,
        { method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, timeout: WEBHOOK_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              contentType: String(res.headers['content-type'] ?? ''),
            }),
          );
          res.on('error', (err) => resolve({ status: 0, body: '', contentType: '', error: err.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${WEBHOOK_TIMEOUT_MS} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: '', contentType: '', error: err.message }));
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function metaSignature(appSecret: string, body: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body, 'utf8').digest('hex')}`;
}
