import { randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { CarrierEmail } from './types';

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

function decodeHtmlAttribute(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** Every link a contact could follow: anchors in the HTML part, then bare URLs in the text part. */
export function extractLinks(html: string | null, text: string): string[] {
  const found: string[] = [];
  if (html) {
    for (const m of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
      found.push(decodeHtmlAttribute(m[2] ?? m[3] ?? m[4] ?? ''));
    }
  }
  for (const m of text.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) found.push(m[0].replace(/[.,;:!?]+$/, ''));
  return [...new Set(found.filter((l) => /^(https?:|mailto:)/i.test(l)))];
}

function headersOf(parsed: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

export interface Mailbox {
  port: number;
  close(): Promise<void>;
}

/** A plain SMTP listener (no TLS; any or no credentials) that files every message it receives. */
export async function startMailbox(host: string, port: number, store: (email: CarrierEmail) => void): Promise<Mailbox> {
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    // nodemailer upgrades opportunistically when STARTTLS is offered, and would reject our certificate.
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    closeTimeout: 500,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'dev' });
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? '';
          const html = typeof parsed.html === 'string' ? parsed.html : null;
          const envelopeFrom = session.envelope.mailFrom;
          store({
            id: randomUUID(),
            messageId: parsed.messageId ?? null,
            from: envelopeFrom ? envelopeFrom.address : (parsed.from?.value[0]?.address ?? ''),
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject: parsed.subject ?? '',
            text,
            html,
            headers: headersOf(parsed),
            links: extractLinks(html, text),
            receivedAt: new Date().toISOString(),
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });

  // smtp-server re-emits listener errors (EADDRINUSE) on itself, not on the net.Server.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
