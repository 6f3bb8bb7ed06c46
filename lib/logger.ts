import pino, { type Logger } from 'pino';

/** Paths that may carry personal data; pino blanks them wherever they appear in a log line. */
const REDACT = ['phone', 'email', 'to', 'from', 'body', 'Body', 'From', 'To', '*.phone', '*.email', '*.to', '*.from', '*.body', 'contact.phone', 'contact.email', 'req.headers.authorization', 'req.headers["x-twilio-signature"]'];

export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
}
