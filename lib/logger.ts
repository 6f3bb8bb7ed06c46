import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { isError, redactText, redactUrl, redactValue } from './redact';

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** The fields of a log call made safe; `req` and `res` hold Fastify's objects, which the serializers below reduce. */
function redactFields(fields: object): Record<string, unknown> {
  if (isError(fields)) return { err: redactValue(fields) };
  const { req, res, ...rest } = fields as Record<string, unknown>;
  return { ...(redactValue(rest) as Record<string, unknown>), ...(req === undefined ? {} : { req }), ...(res === undefined ? {} : { res }) };
}

/**
 * The one logger of the worker and the API. Every line passes lib/redact.ts on its way out: the
 * message, the fields and child bindings (nested ones too), errors under any key (with their own
 * fields, where a failed write keeps the whole document), and the request URLs Fastify logs.
 */
export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    serializers: {
      // Errors were already made plain and masked by the hook below; pino's own serializer would call them `Object`.
      err: (err: unknown) => redactValue(err),
      req: (req: LoggedRequest) => ({ method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first === null || typeof first !== 'object') {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : redactValue(arg))) as Parameters<typeof method>);
          return;
        }
        const fields = redactFields(first);
        // Without a message pino takes the error's, which must be the masked one.
        const err = fields.err as { message?: unknown } | undefined;
        const message = typeof rest[0] === 'string' ? [] : typeof err?.message === 'string' ? [err.message] : [];
        method.apply(this, [fields, ...message, ...rest.map((arg) => (typeof arg === 'string' ? redactText(arg) : redactValue(arg)))] as Parameters<typeof method>);
      },
    },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // pino formats only the root's bindings; every child (Fastify's per request too) is made through this one.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactValue(bindings) as typeof bindings, childOptions);
  } as Logger['child'];
  return logger;
}
