import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DeliverySettings } from '../domain/consent-events';
import type { ServiceDeps } from '../services/deps';
import { createSweeps, type Sweeps } from '../services/sweeps';
import { buildKeyRing, type KeysFile } from '../lib/api-keys';
import { enforceAccess } from './access';
import { requireApiKey } from './auth';
import { installErrorHandler } from './errors';
import { installFormParser } from './form-body';
import { PAGE_TOKEN_MAX, urlProblemHandler } from './html';
import { installMetrics } from './metrics';
import { installRouteCatalog } from './openapi/catalog';
import { registerAgentRoutes } from './routes/agent';
import { registerCampaignRoutes } from './routes/campaigns';
import { registerConsentRoutes } from './routes/consents';
import { registerKeyRoutes } from './routes/keys';
import { registerImportRoutes } from './routes/import';
import { registerContactRoutes } from './routes/contacts';
import { registerEventEndpointRoutes } from './routes/event-endpoints';
import { registerExportRoutes } from './routes/exports';
import { registerDocsRoutes } from './routes/docs';
import { registerJourneyRoutes } from './routes/journeys';
import { registerLedgerRoutes } from './routes/ledger';
import { registerMetaWebhookRoutes } from './routes/meta-webhooks';
import { registerOfflineConsentRoutes } from './routes/offline';
import { registerPageRoutes } from './routes/pages';
import { registerPreferenceRoutes } from './routes/preferences';
import { registerReportPageRoutes } from './routes/report-page';
import { registerReportRoutes } from './routes/reports';
import { registerVoiceInboundRoutes } from './routes/voice-inbound';
import { registerWebhookRoutes } from './routes/webhooks';
import { registerWebformRoutes } from './routes/webform';

export interface ApiDeps extends ServiceDeps {
  /** Admin keys for every business (plain or `sha256:<hex>`), as in `API_KEYS`. */
  apiKeys?: string[];
  /** Keys scoped to businesses and a role, as in `OPTINFLOW_KEYS_FILE`. */
  keysFile?: KeysFile;
  twilioAuthToken: string;
  /** Set when some business sends WhatsApp through Meta: checks the webhooks' signature and challenge. */
  meta?: { appSecret: string; verifyToken: string; accessToken: string; graphBaseUrl: string };
  trustProxy?: boolean;
  logger?: FastifyServerOptions['loggerInstance'];
  /** Consent-change delivery settings other than the defaults (tests use seconds). */
  eventDelivery?: Partial<DeliverySettings>;
  /** Accept event endpoints at loopback or private addresses (EVENT_ENDPOINTS_ALLOW_PRIVATE). */
  allowPrivateReceivers?: boolean;
}

async function checkHealth(deps: ApiDeps, sweeps: Sweeps) {
  const timed = async <T>(f: () => Promise<T>): Promise<{ ok: boolean; detail?: string; value?: T }> => {
    try {
      const value = await Promise.race([f(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timed out after 2s')), 2000).unref())]);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  };
  const [temporal, mongodb, pollers] = await Promise.all([
    timed(() => deps.client.workflowService.getSystemInfo({})),
    timed(() => deps.store.connection.db!.admin().ping()),
    timed(async () => {
      const r = await deps.client.workflowService.describeTaskQueue({ namespace: deps.client.options.namespace, taskQueue: { name: deps.taskQueue }, taskQueueType: 1 });
      return r.pollers?.length ?? 0;
    }),
  ]);
  const worker = pollers.ok && (pollers.value ?? 0) > 0 ? { ok: true, pollers: pollers.value } : { ok: false, detail: pollers.detail ?? `no worker polls task queue "${deps.taskQueue}"` };
  return {
    status: temporal.ok && mongodb.ok && worker.ok ? 'ok' : 'degraded',
    temporal: { ok: temporal.ok, detail: temporal.detail },
    mongodb: { ok: mongodb.ok, detail: mongodb.detail },
    worker,
    sweeps: sweeps.status(),
  };
}

/** Hooks for whoever builds the app: `onRoute` sees every route as it is registered (the scope test lists them so). */
export interface BuildOptions {
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

export async function buildApp(deps: ApiDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const keys = buildKeyRing({ apiKeys: deps.apiKeys, keysFile: deps.keysFile, businesses: deps.businesses });
  if (keys.size === 0) throw new Error('the API needs at least one key: set API_KEYS or OPTINFLOW_KEYS_FILE');
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: 12 * 1024 * 1024,
    trustProxy: deps.trustProxy ?? false,
    // Signed page tokens in /c/:token and /u/:token run to a few hundred characters; the default (100) answers 414.
    routerOptions: { maxParamLength: PAGE_TOKEN_MAX },
    frameworkErrors: urlProblemHandler,
  });
  if (opts.onRoute) {
    const listener = opts.onRoute;
    app.addHook('onRoute', (route) => listener({ method: route.method, url: route.url }));
  }
  installRouteCatalog(app);
  installErrorHandler(app);
  // No browser may read an answer as another type than the one it says (a JSON error echoing input, sniffed as HTML).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  installFormParser(app);

  const sweeps = createSweeps(deps, app.log);
  installMetrics(app, deps, sweeps);
  app.addHook('onReady', async () => sweeps.start());
  app.addHook('onClose', async () => sweeps.stop());

  app.get('/healthz', async (_req, reply) => {
    const health = await checkHealth(deps, sweeps);
    return reply.status(health.status === 'ok' ? 200 : 503).send(health);
  });

  await app.register(async (v1) => {
    requireApiKey(v1, keys);
    enforceAccess(v1, deps);
    registerKeyRoutes(v1);
    registerJourneyRoutes(v1, deps);
    registerConsentRoutes(v1, deps);
    registerCampaignRoutes(v1, deps);
    registerAgentRoutes(v1, deps);
    registerOfflineConsentRoutes(v1, deps);
    registerReportRoutes(v1, deps);
    registerImportRoutes(v1, deps);
    registerLedgerRoutes(v1, deps);
    registerContactRoutes(v1, deps);
    registerExportRoutes(v1, deps);
    registerEventEndpointRoutes(v1, deps);
  }, { prefix: '/v1' });

  registerWebhookRoutes(app, deps);
  registerMetaWebhookRoutes(app, deps);
  registerVoiceInboundRoutes(app, deps);
  registerPageRoutes(app, deps);
  registerPreferenceRoutes(app, deps);
  registerWebformRoutes(app, deps);
  registerReportPageRoutes(app, deps, keys);
  registerDocsRoutes(app, deps);
  return app;
}
