import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServiceDeps } from '../services/deps';
import { createSweeps, type Sweeps } from '../services/sweeps';
import { requireApiKey } from './auth';
import { installErrorHandler } from './errors';
import { installFormParser } from './form-body';
import { PAGE_TOKEN_MAX, urlProblemHandler } from './html';
import { installMetrics } from './metrics';
import { registerAgentRoutes } from './routes/agent';
import { registerCampaignRoutes } from './routes/campaigns';
import { registerConsentRoutes } from './routes/consents';
import { registerJourneyRoutes } from './routes/journeys';
import { registerMetaWebhookRoutes } from './routes/meta-webhooks';
import { registerOfflineConsentRoutes } from './routes/offline';
import { registerPageRoutes } from './routes/pages';
import { registerPreferenceRoutes } from './routes/preferences';
import { registerReportRoutes } from './routes/reports';
import { registerVoiceInboundRoutes } from './routes/voice-inbound';
import { registerWebhookRoutes } from './routes/webhooks';
import { registerWebformRoutes } from './routes/webform';

export interface ApiDeps extends ServiceDeps {
  apiKeys: string[];
  twilioAuthToken: string;
  /** Set when some business sends WhatsApp through Meta: checks the webhooks' signature and challenge. */
  meta?: { appSecret: string; verifyToken: string; accessToken: string; graphBaseUrl: string };
  trustProxy?: boolean;
  logger?: FastifyServerOptions['loggerInstance'];
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

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: 12 * 1024 * 1024,
    trustProxy: deps.trustProxy ?? false,
    // Signed page tokens in /c/:token and /u/:token run to a few hundred characters; the default (100) answers 414.
    routerOptions: { maxParamLength: PAGE_TOKEN_MAX },
    frameworkErrors: urlProblemHandler,
  });
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
    requireApiKey(v1, deps.apiKeys);
    registerJourneyRoutes(v1, deps);
    registerConsentRoutes(v1, deps);
    registerCampaignRoutes(v1, deps);
    registerAgentRoutes(v1, deps);
    registerOfflineConsentRoutes(v1, deps);
    registerReportRoutes(v1, deps);
  }, { prefix: '/v1' });

  registerWebhookRoutes(app, deps);
  registerMetaWebhookRoutes(app, deps);
  registerVoiceInboundRoutes(app, deps);
  registerPageRoutes(app, deps);
  registerPreferenceRoutes(app, deps);
  registerWebformRoutes(app, deps);
  return app;
}
