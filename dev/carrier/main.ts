import pino from 'pino';
import { z } from 'zod';
import { loadBusinesses } from '../../lib/businesses';
import { carrierContentFor, carrierMetaFor } from '../content-templates';
import { startCarrier } from './carrier';

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  CARRIER_HOST: z.string().min(1).default('127.0.0.1'),
  CARRIER_PORT: port.default(4010),
  CARRIER_SMTP_PORT: port.default(2525),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  CARRIER_INBOUND_URL: z.url().default('http://127.0.0.1:3000/webhooks/twilio/messaging'),
  CARRIER_VOICE_STATUS_URL: z.url().optional(),
  /** The Graph API side: bearer token it accepts, app secret it signs webhooks with, where they go. */
  META_ACCESS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  META_APP_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  CARRIER_META_WEBHOOK_URL: z.url().default('http://127.0.0.1:3000/webhooks/meta'),
  BUSINESSES_FILE: z.string().min(1).default('config/businesses.demo.json'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

function readEnv(env: NodeJS.ProcessEnv): z.infer<typeof envSchema> {
  const picked = Object.fromEntries(Object.keys(envSchema.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  const parsed = envSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    return `  ${name} (${env[name] ? 'invalid' : 'not set'}): ${i.message}`;
  });
  throw new Error(`Invalid carrier configuration:\n${lines.join('\n')}`);
}

async function main(): Promise<void> {
  let env: z.infer<typeof envSchema>;
  try {
    env = readEnv(process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const log = pino({ level: env.LOG_LEVEL, base: { service: 'carrier' } });
  let carrier;
  try {
    // The businesses' WhatsApp content ids, so the page shows real texts and buttons and enforces the 24-hour window.
    const businesses = loadBusinesses(env.BUSINESSES_FILE).all();
    const content = carrierContentFor(businesses);
    const meta =
      env.META_ACCESS_TOKEN && env.META_APP_SECRET ? carrierMetaFor(businesses, { accessToken: env.META_ACCESS_TOKEN, appSecret: env.META_APP_SECRET, webhookUrl: env.CARRIER_META_WEBHOOK_URL }) : undefined;
    if (!meta && businesses.some((b) => b.whatsapp.provider === 'meta')) log.warn({}, 'META_ACCESS_TOKEN or META_APP_SECRET not set: the carrier serves no Graph API');
    carrier = await startCarrier({
      ...content,
      meta,
      host: env.CARRIER_HOST,
      httpPort: env.CARRIER_PORT,
      smtpPort: env.CARRIER_SMTP_PORT,
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      inboundMessageUrl: env.CARRIER_INBOUND_URL,
      voiceStatusUrl: env.CARRIER_VOICE_STATUS_URL,
      logger: log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      const which = e.port === env.CARRIER_SMTP_PORT ? `CARRIER_SMTP_PORT ${env.CARRIER_SMTP_PORT}` : `CARRIER_PORT ${env.CARRIER_PORT}`;
      console.error(`Carrier cannot start: ${which} on ${env.CARRIER_HOST} is already in use. Stop the other process or choose another port.`);
    } else {
      console.error(`Carrier cannot start: ${e.message}`);
    }
    process.exit(1);
  }
  log.info(
    { httpUrl: carrier.httpUrl, smtp: `smtp://${env.CARRIER_HOST}:${carrier.smtpPort}`, inboundUrl: env.CARRIER_INBOUND_URL },
    `carrier ready: page and Twilio API on ${carrier.httpUrl}, SMTP on port ${carrier.smtpPort}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'carrier stopping');
    carrier
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'carrier did not stop cleanly');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

void main();
