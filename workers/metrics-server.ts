import type { TelemetryOptions } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import type { Config } from '../config/config';
import { createWorkerMetrics, type WorkerMetrics } from './metrics';

/**
 * The worker's two Prometheus endpoints: Optinflow's metrics (WORKER_METRICS_PORT, served here) and
 * the Temporal SDK's own (WORKER_SDK_METRICS_PORT, served by the SDK's core: workflow task latency,
 * schedule-to-start, slots, sticky cache, polls). Separate ports, because the SDK serves its own.
 */
export interface WorkerTelemetry {
  /** For Runtime.install: the SDK's exporter, in Prometheus conventions (seconds, `_total`). */
  telemetryOptions?: TelemetryOptions;
  /** For createOptinflowWorker; absent when WORKER_METRICS_PORT is 0. */
  metrics?: WorkerMetrics;
  close(): Promise<void>;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`WORKER_METRICS_PORT ${port} is already in use on ${host}: stop what uses it, set another port, or 0 to turn the endpoint off`, { cause: err }) : err),
    );
    server.listen(port, host, () => resolve());
  });
}

export async function startWorkerTelemetry(config: Config): Promise<WorkerTelemetry> {
  const host = config.WORKER_METRICS_HOST;
  const telemetryOptions: TelemetryOptions | undefined = config.WORKER_SDK_METRICS_PORT
    ? { metrics: { prometheus: { bindAddress: hostPort(host, config.WORKER_SDK_METRICS_PORT), countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } }
    : undefined;
  if (!config.WORKER_METRICS_PORT) return { telemetryOptions, close: async () => undefined };

  const metrics = createWorkerMetrics();
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await listen(server, host, config.WORKER_METRICS_PORT);
  return {
    telemetryOptions,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        metrics.close();
        server.close(() => resolve());
      }),
  };
}
