import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig, metaSettings } from '../config/config';
import { readKeysFile } from '../lib/api-keys';
import { loadBusinesses } from '../lib/businesses';
import { createLogger } from '../lib/logger';
import { redactText } from '../lib/redact';
import { eventSecretsBox } from '../lib/secret-box';
import { outliveUnhandledRejections } from '../lib/unhandled-rejections';
import { temporalConnectionOptions } from '../lib/temporal';
import { temporalClientInterceptors } from '../lib/temporal-interceptors';
import { resealEndpointSecrets } from '../services/event-endpoints';
import { connectStore } from '../store/models';
import { buildApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('api', config.LOG_LEVEL);
  outliveUnhandledRejections(process, logger);
  const businesses = loadBusinesses(config.BUSINESSES_FILE);
  const meta = metaSettings(config, businesses.usesMeta());
  const store = await connectStore(config.MONGODB_URI);
  const eventSecrets = eventSecretsBox(config);
  const secrets = await resealEndpointSecrets({ store, eventSecrets });
  if (secrets.sealed + secrets.resealed > 0) logger.info({ sealed: secrets.sealed, resealed: secrets.resealed }, 'event endpoints\' signing secrets now sealed under EVENT_SECRETS_KEY');
  if (secrets.unopenable.length > 0) logger.warn({ endpointIds: secrets.unopenable }, 'event endpoints whose signing secret opens with no key given: their deliveries fail until they are registered again');
  const connection = await Connection.connect({ ...temporalConnectionOptions(config), interceptors: temporalClientInterceptors() });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = await buildApp({
    client,
    store,
    businesses,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    apiKeys: config.API_KEYS,
    keysFile: config.OPTINFLOW_KEYS_FILE ? readKeysFile(config.OPTINFLOW_KEYS_FILE) : undefined,
    twilioAuthToken: config.TWILIO_AUTH_TOKEN,
    meta,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    pageTokenSecret: config.PAGE_TOKEN_SECRET,
    erasureHashSecret: config.ERASURE_HASH_SECRET,
    eventSecrets,
    allowPrivateReceivers: config.EVENT_ENDPOINTS_ALLOW_PRIVATE,
    trustProxy: config.TRUST_PROXY,
    logger,
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await connection.close();
    await store.connection.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await app.listen({ host: config.API_HOST, port: config.API_PORT, backlog: config.API_LISTEN_BACKLOG });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`API_PORT ${config.API_PORT} is already in use on ${config.API_HOST}: stop what uses it or set API_PORT`, { cause: err });
    }
    throw err;
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `api failed: ${redactText((err as Error).message)}`);
  process.exit(1);
});
