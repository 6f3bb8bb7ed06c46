import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface MailerOptions {
  smtpUrl: string;
}

/**
 * One connection per message: activities send rarely and in parallel across workers, and a pool
 * would hold sockets open between Temporal activity attempts for no gain.
 */
export function createMailer(opts: MailerOptions): Transporter {
  return nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: false,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}
