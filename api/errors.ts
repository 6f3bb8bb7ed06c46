import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';

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

export interface FieldIssue {
  field: string;
  rule: string;
  value?: unknown;
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
  const message = issues.map((i) => `${i.field}: ${i.rule}`).join('; ');
  throw new HttpError(400, 'invalid_request', `${where} is invalid: ${message}`, issues);
}

/** One error handler: 4xx say exactly what was wrong; 5xx say nothing internal. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send({ error: err.code, message: err.message, ...(err.details ? { issues: err.details } : {}) });
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ error: (err as FastifyError).code ?? 'bad_request', message: err.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: 'internal', message: 'internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
