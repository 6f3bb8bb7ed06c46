import { unhandledRejection } from './metric-events';

interface ErrorLog {
  error(fields: object, message: string): void;
}

/**
 * Node ends a process on a promise that rejects with no handler. For the API that would drop every
 * webhook in flight, a STOP among them (Twilio does not send an inbound message again), to report a
 * failure some caller did not wait for; the worker would redo all its running work after a restart.
 * So such a rejection is logged (through the redacting logger: its message may name a contact),
 * counted (`optinflow_unhandled_rejections_total`), and the process goes on. It is still a bug to
 * fix. An exception nothing caught still ends the process.
 */
export function outliveUnhandledRejections(proc: NodeJS.EventEmitter, log: ErrorLog): void {
  proc.on('unhandledRejection', (reason: unknown) => {
    log.error({ err: reason }, 'a promise rejected with no handler; the process goes on');
    unhandledRejection.publish({});
  });
}
