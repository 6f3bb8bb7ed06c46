import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { InvalidInputError, ServiceError, type FieldIssue, type ServiceErrorKind } from '../services/errors';
import { isTemporalUnavailable } from '../services/temporal';

const TEMPORAL_RETRY_AFTER_S = 5;

/** An answer only HTTP knows (a missing key, a body too large); everything a service refuses is a ServiceError. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const STATUS_OF: Record<ServiceErrorKind, number> = { invalid: 400, not_found: 404, conflict: 409, rate_limited: 429, unavailable: 503 };

/** The HTTP status of anything a route may throw; 500 for what nobody expected. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.statusCode;
  if (err instanceof ServiceError) return STATUS_OF[err.kind];
  if (isTemporalUnavailable(err)) return 503;
  const status = (err as FastifyError).statusCode;
  return status && status >= 400 && status < 500 ? status : 500;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return typeof cur === 'object' ? undefined : cur;
}

/** Parses input against a schema; a failure becomes a 400 naming each field, its value and the rule. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues: FieldIssue[] = r.error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : where,
    rule: i.message,
    value: valueAt(input, i.path),
  }));
  throw new InvalidInputError(where, issues);
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, details?: unknown, retryAfterSeconds?: number) {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  return reply.status(status).send({ error: code, message, ...(details ? { issues: details } : {}) });
}

/** One error handler: 4xx say exactly what was wrong; 5xx say nothing internal (a 503 says to try again). */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError | ServiceError, request, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.statusCode, err.code, err.message, err.details);
    if (err instanceof ServiceError) return sendError(reply, STATUS_OF[err.kind], err.code, err.message, err.details, err.retryAfterSeconds);
    if (isTemporalUnavailable(err)) {
      request.log.warn({ err }, 'Temporal did not answer');
      return sendError(reply, 503, 'unavailable', 'the workflow service did not answer in time; nothing was changed; try again', undefined, TEMPORAL_RETRY_AFTER_S);
    }
    const status = statusOf(err);
    if (status < 500) return sendError(reply, status, (err as FastifyError).code ?? 'bad_request', err.message);
    request.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal', 'internal error; see the server log');
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
