import type http from 'node:http';
import type { z } from 'zod';
import { CarrierUsageError } from './errors';
import type { FormParams } from './runtime';

const MAX_BODY_BYTES = 1_000_000;

export interface Reply {
  status: number;
  json?: unknown;
  html?: string;
  redirect?: string;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
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

export function parseForm(raw: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

export function parseJsonOrForm(raw: string, contentType: string): unknown {
  if (contentType.includes('application/json')) {
    try {
      return raw ? JSON.parse(raw) : {};
    } catch {
      throw new CarrierUsageError(400, 'body is not valid JSON');
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new CarrierUsageError(400, why);
  }
  return parsed.data;
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function writeReply(res: http.ServerResponse, reply: Reply): void {
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
