import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '../lib/metrics';
import { OUTBOX_STUCK_AFTER_S, outboxBacklog, pendingBacklog } from '../services/backlog';
import type { Sweeps } from '../services/sweeps';
import type { Store } from '../store/models';

/**
 * The API's Prometheus endpoint, GET /metrics, outside /v1 and without the API key (as /healthz):
 * it says how much and how fast, never who. Routes are labelled by their pattern
 * (`/c/:token`), never by the URL asked for, so no token, phone or id reaches a label.
 */

const BACKLOG_DEADLINE_MS = 2_000;
const WEBHOOK_PREFIX = '/webhooks/';

/** What a webhook's answer means for the provider that sent it. */
function webhookOutcome(status: number): string {
  if (status < 400) return 'accepted';
  if (status === 403) return 'bad_signature';
  if (status === 429) return 'rate_limited';
  if (status < 500) return 'rejected';
  if (status === 503) return 'unavailable';
  return 'failed';
}

function httpMetrics(registry: Registry) {
  const duration = new Histogram({
    name: 'optinflow_http_request_duration_seconds',
    help: 'HTTP requests answered by the API, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'optinflow_webhooks_total',
    help: 'Provider webhooks answered, by webhook and outcome (accepted, bad_signature, rejected, rate_limited, unavailable, failed)',
    labelNames: ['webhook', 'outcome'] as const,
    registers: [registry],
  });
  return (request: FastifyRequest, reply: FastifyReply) => {
    // Unmatched requests (404s) carry no pattern: one series for all of them, never the URL asked for.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    duration.observe({ method: request.method, route, status_code: String(status) }, reply.elapsedTime / 1000);
    if (route.startsWith(WEBHOOK_PREFIX)) webhooks.inc({ webhook: route.slice(WEBHOOK_PREFIX.length), outcome: webhookOutcome(status) });
  };
}

/** Read at scrape time from what the sweeps report: ops alert on failures and on a last success long ago (sweep lag). */
function sweepMetrics(registry: Registry, sweeps: Sweeps) {
  const cumulative = (name: string, help: string, field: 'runs' | 'failures') =>
    new Counter({
      name,
      help,
      labelNames: ['sweep'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sweeps.status()) this.inc({ sweep: s.name }, s[field]);
      },
    });
  cumulative('optinflow_sweep_runs_total', 'Runs of each background sweep (pending opt-outs, pending events, campaigns left starting)', 'runs');
  cumulative('optinflow_sweep_failures_total', 'Sweep runs that failed (the next run tries again)', 'failures');
  new Gauge({
    name: 'optinflow_sweep_last_success_timestamp_seconds',
    help: 'When each sweep last finished without error (Unix time); time() minus this is the sweep lag',
    labelNames: ['sweep'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sweeps.status()) if (s.lastOkAt) this.set({ sweep: s.name }, Date.parse(s.lastOkAt) / 1000);
    },
  });
  const startedAt = Date.now();
  new Gauge({
    name: 'optinflow_sweep_lag_seconds',
    help: 'Seconds since each sweep last finished without error (since the API started, when it never has); alert when well above the sweep interval',
    labelNames: ['sweep'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const s of sweeps.status()) this.set({ sweep: s.name }, (now - (s.lastOkAt ? Date.parse(s.lastOkAt) : startedAt)) / 1000);
    },
  });
}

/** Within the deadline, or undefined (logged) when the store did not answer. */
async function withinDeadline<T>(read: () => Promise<T>, log: FastifyInstance['log'], what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BACKLOG_DEADLINE_MS)));
    return await Promise.race([read(), deadline]);
  } catch (err) {
    log.warn({ err }, `${what} for /metrics failed`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends stuck claimed or ambiguous; NaN when the store did not answer within 2 s. */
function outboxMetrics(registry: Registry, store: Store, log: FastifyInstance['log']) {
  new Gauge({
    name: 'optinflow_outbox_backlog',
    help: `Outbox rows claimed or ambiguous for more than ${OUTBOX_STUCK_AFTER_S} s, by status: sends a worker left mid-way or the provider has not settled`,
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await withinDeadline(() => outboxBacklog(store), log, 'counting the outbox backlog');
      this.set({ status: 'claimed' }, counts?.claimed ?? NaN);
      this.set({ status: 'ambiguous' }, counts?.ambiguous ?? NaN);
    },
  });
}

/** Counted in the store at scrape time; NaN when the store did not answer within 2 s. */
function backlogMetrics(registry: Registry, store: Store, log: FastifyInstance['log']) {
  let reading: Promise<{ optOuts: number; events: number } | undefined> | undefined;
  // Both gauges are collected in one scrape: one pair of counts serves both.
  const readOnce = () =>
    (reading ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BACKLOG_DEADLINE_MS)));
        return await Promise.race([pendingBacklog(store), deadline]);
      } catch (err) {
        log.warn({ err }, 'counting the pending backlog for /metrics failed');
        return undefined;
      } finally {
        clearTimeout(timer);
        setImmediate(() => (reading = undefined));
      }
    })());
  new Gauge({
    name: 'optinflow_pending_optouts',
    help: 'Opt-outs kept in the store (optout_pending) because Temporal did not take them in time; the sweep starts them',
    registers: [registry],
    async collect() {
      this.set((await readOnce())?.optOuts ?? NaN);
    },
  });
  new Gauge({
    name: 'optinflow_pending_events',
    help: 'Contact events (replies, key presses, delivery reports) kept in the store (events_pending); the sweep hands them over',
    registers: [registry],
    async collect() {
      this.set((await readOnce())?.events ?? NaN);
    },
  });
}

/** Installs the metrics hooks and GET /metrics; called before the routes are registered so every route is measured. */
export function installMetrics(app: FastifyInstance, deps: { store: Store }, sweeps: Sweeps): void {
  const metrics = createMetricsRegistry();
  const { registry } = metrics;
  const observe = httpMetrics(registry);
  app.addHook('onResponse', async (request, reply) => observe(request, reply));
  sweepMetrics(registry, sweeps);
  backlogMetrics(registry, deps.store, app.log);
  outboxMetrics(registry, deps.store, app.log);
  app.addHook('onClose', async () => metrics.close());
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
