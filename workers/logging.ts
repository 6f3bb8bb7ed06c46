import { makeTelemetryFilterString, Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger, type TelemetryOptions } from '@temporalio/worker';
import type { Logger } from 'pino';

const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** The SDK's logger interface on top of ours, so workflow, activity and SDK lines are masked like the rest. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => logger[PINO_METHOD[level] ?? 'info'](meta ?? {}, message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * Routes every log line of the worker process to pino: workflow and activity `log` calls, and the
 * SDK core's own lines, which by default go straight to stderr unmasked (a failed workflow task
 * carries the failure's message there).
 */
export function installRuntimeLogger(logger: Logger, extra: Omit<TelemetryOptions, 'logging'> = {}): void {
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: { ...extra, logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} } },
  });
}
