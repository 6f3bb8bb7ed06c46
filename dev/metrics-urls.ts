import { configShape } from '../config/config';

/** The Prometheus endpoints of the local stack, as rows of `npm start`'s table. */
export function metricsRows(env: NodeJS.ProcessEnv, apiUrl: string, started: string[]): Array<[string, string]> {
  const host = configShape.WORKER_METRICS_HOST.parse(env.WORKER_METRICS_HOST || undefined);
  const port = (key: 'WORKER_METRICS_PORT' | 'WORKER_SDK_METRICS_PORT') => configShape[key].parse(env[key] || undefined);
  const worker = (port: number, variable: string) => {
    if (!started.includes('worker')) return '(not running)';
    return port ? `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` : `(off: ${variable}=0)`;
  };
  return [
    ['API metrics', started.includes('api') ? `${apiUrl}/metrics` : '(not running)'],
    ['Worker metrics', worker(port('WORKER_METRICS_PORT'), 'WORKER_METRICS_PORT')],
    ['Temporal SDK metrics', worker(port('WORKER_SDK_METRICS_PORT'), 'WORKER_SDK_METRICS_PORT')],
  ];
}
