import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

/** Node's own default is 511: a burst of webhooks on a busy API overflowed it (docs/optout.md). */
export const API_LISTEN_BACKLOG_DEFAULT = 4096;

/**
 * Every setting the worker and the API read, with its default. Secrets (auth token, API keys,
 * page-token secret) have no default here: the dev stack supplies dev values in its own environment.
 */
export const configShape = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('optinflow'),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /**
   * Journeys kept in the worker's memory between events (about 0.15 MiB each); an evicted one is
   * replayed from its (short) history. Enough for a burst's journeys: with 500 of 1,000 cached, each
   * STOP's task replayed its journey and the answers came far later (docs/performance.md).
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1500),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  /**
   * Workflow tasks one worker runs at once. A task that runs a local activity (a journey's confirmation
   * or its carried opt-out) keeps its slot until that returns, so the store's round trips hold slots.
   */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  /**
   * How long a workflow task waits on this worker's own (sticky) queue for a busy worker before the
   * server hands it to the task queue with the whole history, to be replayed by whichever worker takes it.
   */
  WORKER_STICKY_QUEUE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /**
   * The share of the worker's workflow-task polls that go to the task queue rather than to its own
   * (sticky) queue: new workflows, opt-outs first by priority, come only from the task queue.
   */
  WORKER_NONSTICKY_POLL_RATIO: z.coerce.number().gt(0).max(1).default(0.2),
  /** Threads that run workflow code, each with its own V8 context and its share of the cache (the SDK's default 1). */
  WORKER_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(8).default(1),
  /**
   * How a workflow stuck in a synchronous loop is stopped (workers/workflow-guard.ts): 'per-call' is
   * the SDK's watchdog thread per call into a workflow, which fails only that workflow's task;
   * 'activation' reads the thread's running call once a second and stops the thread (and the worker).
   */
  WORKER_WORKFLOW_GUARD: z.enum(['activation', 'per-call']).default('per-call'),
  /** 'on': workflows keep stack frames (the stack-trace query, workflow errors), at some CPU; see workflows/stack-trace-limit.ts. */
  WORKER_WORKFLOW_STACK_TRACES: z.enum(['on', 'off']).default('off'),
  /** Event endpoints at loopback/private/link-local addresses: refused unless set (the embedded stack sets it; receivers there are local). */
  EVENT_ENDPOINTS_ALLOW_PRIVATE: bool.default(false),
  /** On SIGTERM: seconds in-flight activities may finish before they are cancelled, and after which shutdown gives up waiting. */
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  WORKER_SHUTDOWN_FORCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** The worker's Prometheus endpoints: Optinflow's own metrics and the Temporal SDK's, each on its own port (0 = off). */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_METRICS_PORT: port.default(9464),
  WORKER_SDK_METRICS_PORT: port.default(9465),

  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').default('mongodb://127.0.0.1:27017/optinflow'),

  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  TWILIO_API_BASE_URL: z.url().optional(),

  /**
   * WhatsApp on Meta's Cloud API (businesses with `whatsapp.provider: "meta"`): the system-user access
   * token for sends, the app secret that signs webhooks (X-Hub-Signature-256), the verify token of
   * the webhook subscription's challenge. Required only when some business is on Meta.
   */
  META_ACCESS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  META_APP_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  META_VERIFY_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  META_GRAPH_BASE_URL: z.url().default('https://graph.facebook.com'),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').default('smtp://127.0.0.1:2525'),

  PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:3000'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /**
   * Connections the kernel holds for the API while it is too busy to take them (capped by
   * net.core.somaxconn). Past it new ones are refused unseen: a STOP Twilio sent would be lost.
   */
  API_LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65535).default(API_LISTEN_BACKLOG_DEFAULT),
  /** Only behind a reverse proxy: then client IPs (proof, rate limits) come from X-Forwarded-For. */
  TRUST_PROXY: bool.default(false),
  /** Admin keys for every business, in plain text or as `sha256:<hex>` of the key (docs/keys.md). */
  API_KEYS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((k) => /^sha256:[0-9a-f]{64}$/.test(k) || (!k.startsWith('sha256:') && k.length >= 16), 'each key must be at least 16 characters, or sha256: and 64 lower-case hex digits')).min(1))
    .optional(),
  /** Keys scoped to businesses and a role, stored as hashes (docs/keys.md). */
  OPTINFLOW_KEYS_FILE: z.string().min(1).optional(),
  PAGE_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Keys the hash an erasure keeps of an erased number so it stays suppressed; unset, POST /v1/contacts/erase answers 503. */
  ERASURE_HASH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Seals event endpoints' signing secrets in the store (API and worker); unset, POST /v1/event-endpoints answers 503. */
  EVENT_SECRETS_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * Keys EVENT_SECRETS_KEY replaced, comma-separated: they still open the secrets they sealed, and the
   * API seals each again under EVENT_SECRETS_KEY when it starts (docs/events.md, "Changing the key").
   */
  EVENT_SECRETS_PREVIOUS_KEYS: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'each key must be at least 32 characters')))
    // Empty (docker-compose passes it through unset as "") means none.
    .transform((keys) => (keys.length > 0 ? keys : undefined))
    .optional(),
  BUSINESSES_FILE: z.string().min(1).default('config/businesses.demo.json'),
};

export const configSchema = z.object(configShape).superRefine((c, ctx) => {
  if (!c.API_KEYS && !c.OPTINFLOW_KEYS_FILE) ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'set API_KEYS or OPTINFLOW_KEYS_FILE: the API needs at least one key' });
  if (c.EVENT_SECRETS_PREVIOUS_KEYS && !c.EVENT_SECRETS_KEY) ctx.addIssue({ code: 'custom', path: ['EVENT_SECRETS_PREVIOUS_KEYS'], message: 'needs EVENT_SECRETS_KEY, the key the secrets are sealed under from now on' });
  if (c.WORKER_SHUTDOWN_FORCE_SECONDS <= c.WORKER_SHUTDOWN_GRACE_SECONDS) ctx.addIssue({ code: 'custom', path: ['WORKER_SHUTDOWN_FORCE_SECONDS'], message: 'must be greater than WORKER_SHUTDOWN_GRACE_SECONDS' });
});
export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseSettings(configSchema, env);
}

const sandboxSchema = z.object({ WORKER_WORKFLOW_GUARD: configShape.WORKER_WORKFLOW_GUARD, WORKER_WORKFLOW_STACK_TRACES: configShape.WORKER_WORKFLOW_STACK_TRACES });
export type SandboxSettings = z.infer<typeof sandboxSchema>;

/**
 * Only the workflow sandbox's settings, checked as loadConfig checks them: for what builds or runs
 * workflows without the rest of the config (the bundle script, a benchmark's in-process bare worker).
 */
export function loadSandboxSettings(env: Record<string, string | undefined> = process.env): SandboxSettings {
  return parseSettings(sandboxSchema, env);
}

function parseSettings<T>(schema: z.ZodType<T>, env: Record<string, string | undefined>): T {
  // An empty variable counts as unset, so `FOO= npm start` means the default.
  const picked: Record<string, string> = {};
  for (const key of Object.keys(configShape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const shown = env[name] === undefined ? 'not set' : 'invalid';
      return `  ${name} (${shown}): ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export interface MetaSettings {
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  graphBaseUrl: string;
}

/**
 * Meta's secrets, when some business sends WhatsApp through Meta (undefined otherwise); one that is
 * missing then stops start-up, naming it.
 */
export function metaSettings(config: Config, needed: boolean): MetaSettings | undefined {
  const { META_ACCESS_TOKEN: accessToken, META_APP_SECRET: appSecret, META_VERIFY_TOKEN: verifyToken } = config;
  if (accessToken && appSecret && verifyToken) return { accessToken, appSecret, verifyToken, graphBaseUrl: config.META_GRAPH_BASE_URL };
  if (!needed) return undefined;
  const missing = Object.entries({ META_ACCESS_TOKEN: accessToken, META_APP_SECRET: appSecret, META_VERIFY_TOKEN: verifyToken })
    .filter(([, v]) => !v)
    .map(([k]) => `  ${k} (not set): required because a business in BUSINESSES_FILE sends WhatsApp through Meta`);
  throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
}
