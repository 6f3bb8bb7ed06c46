import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { parse } from 'node:querystring';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How large a form body on this route may be; a larger one is refused before it is parsed. */
    formLimits?: FormLimits;
  }
}

export interface FormLimits {
  bodyBytes: number;
  fields: number;
}

const KB = 1024;

/**
 * Form bodies, per kind of route. The bytes are refused before they are read (Content-Length) or as
 * they pass the limit; the fields are counted on the raw bytes before anything is decoded, so neither
 * parsing nor the Twilio signature check (which sorts and hashes every field) grows with a hostile body.
 */
export const FORM_LIMITS = {
  /** Hosted pages post a decision, a phone number and at most 20 category boxes: well under 2 KB. */
  page: { bodyBytes: 64 * KB, fields: 100 },
  /**
   * Twilio's callbacks (message status, calls, key presses) carry only what Twilio writes: a few KB,
   * fewer than 100 fields even with every optional one.
   */
  providerCallback: { bodyBytes: 64 * KB, fields: 200 },
  /**
   * Where an opt-out arrives with text the contact controls (an inbound message, the unsubscribe link):
   * real ones are a few KB, but an opt-out is never refused for its size, so this only bounds the work
   * per request (reading, one signature check); the payload is cut to size before it is kept.
   */
  optOutCarrier: { bodyBytes: 4 * KB * KB, fields: 200 },
} satisfies Record<string, FormLimits>;

/** A form route's options: its limits, and no other kind of body (JSON would be parsed whole before the signature check). */
export function formRoute(limits: FormLimits): Pick<RouteShorthandOptions, 'config' | 'onRequest'> {
  return {
    config: { formLimits: limits },
    onRequest: async (request: FastifyRequest) => {
      const type = String(request.headers['content-type'] ?? '');
      if (request.headers['content-length'] !== '0' && type && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
        throw new HttpError(415, 'unsupported_media_type', `this endpoint takes application/x-www-form-urlencoded, not ${type.slice(0, 100)}`);
      }
    },
  };
}

const KIB = (bytes: number) => `${Math.round(bytes / KB)} KB`;

/**
 * Parses application/x-www-form-urlencoded for every route, counting bytes and fields as they arrive:
 * past either limit the answer is a 413 at once, and the rest of the body is only drained. A route
 * without limits of its own gets the pages' ones.
 */
export function installFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', (request, payload, done) => {
    const limits = request.routeOptions.config.formLimits ?? FORM_LIMITS.page;
    // Made only when refused: an Error captures a stack trace, a cost every webhook would pay otherwise.
    const tooLarge = () => new HttpError(413, 'payload_too_large', `the form is larger than the ${KIB(limits.bodyBytes)} this endpoint takes`);
    if (Number(request.headers['content-length']) > limits.bodyBytes) {
      done(tooLarge(), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let fields = 1;
    let settled = false;
    const settle = (err: Error | null, body?: unknown) => {
      if (settled) return;
      settled = true;
      done(err, body);
    };
    payload.on('data', (chunk: Buffer) => {
      if (settled) return;
      bytes += chunk.length;
      if (bytes > limits.bodyBytes) return settle(tooLarge());
      for (let i = chunk.indexOf(0x26); i !== -1; i = chunk.indexOf(0x26, i + 1)) fields++;
      if (fields > limits.fields) return settle(new HttpError(413, 'payload_too_large', `the form has more than the ${limits.fields} fields this endpoint takes`));
      chunks.push(chunk);
    });
    payload.on('error', (err) => settle(err));
    payload.on('end', () => settle(null, bytes === 0 ? {} : { ...parse(Buffer.concat(chunks, bytes).toString('utf8'), '&', '=', { maxKeys: limits.fields }) }));
  });
}
