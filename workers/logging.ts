import { makeTelemetryFilterString, Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger, type TelemetryOptions } from '@temporalio/worker';
import type { Logger } from 'pino';

const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * A campaign's workflow task stays open while its batches chain (domain/campaign-pacing.ts
 * BATCH_CHAIN_LEAD_MS) and the worker renews it at 80 % of the task timeout: 3.2 s for campaigns
 * started with CAMPAIGN_TASK_TIMEOUT, 8 s for those started before it with the 10 s default, and
 * past 5 s core warns. By design for a campaign, so information there and a warning for the rest.
 */
function expected(level: LogLevel, message: string, meta?: LogMetadata): boolean {
  return level === 'WARN' && message.startsWith('[TMPRL1104]') && meta?.workflowType === 'campaignWorkflow';
}

/** The SDK's logger interface on top of ours, so workflow, activity and SDK lines are masked like the rest. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => logger[PINO_METHOD[expected(level, message, meta) ? 'INFO' : level] ?? 'info'](meta ?? {}, message);
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
