import http from 'node:http';
import https from 'node:https';
import { isPublicAddress, literalHost, PrivateAddressError, publicOnlyLookup } from './address-policy';

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Loopback and private receivers (development, tests, a receiver inside the same network by choice). */
  allowPrivate: boolean;
}

/**
 * One POST that follows no redirect and, unless private receivers are allowed, connects only to
 * public addresses: a literal IP is checked here, a name in the socket's own lookup. Resolves with
 * the status; rejects with an error whose `code` says why no answer came (timeout, refused, private).
 */
export function guardedPost(url: string, opts: PostOptions): Promise<number> {
  const target = new URL(url);
  const literal = literalHost(target);
  if (!opts.allowPrivate && literal && !isPublicAddress(literal)) return Promise.reject(new PrivateAddressError(literal));
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...opts.headers, 'content-length': Buffer.byteLength(opts.body) },
        ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        // The answer's body is not needed; reading it frees the socket.
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      },
    );
    // A whole-exchange bound: a receiver that drips its answer must not hold a delivery round.
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('no answer in time'), { code: 'timeout' })), opts.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}
