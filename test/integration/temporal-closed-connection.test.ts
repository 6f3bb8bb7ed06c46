import { InterceptingCall, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { findFreePort } from '../../dev/free-port';
import { closedConnectionGuard, temporalClientInterceptors } from '../../lib/temporal-interceptors';

/**
 * A Temporal call retried on a timer while its connection closes: the retry's next attempt must end
 * the call with an error its caller gets, not throw from the timer (an uncaught exception that ends a
 * process, or fails whichever test file is running then).
 */

/** Reports each attempt's status as it passes between the retry above it and the guard below. */
function attemptSpy(onStatus: (s: StatusObject) => void): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            onStatus(status);
            nextStatus(status);
          },
        });
      },
    });
}

test('the connection closed while a call waits to be retried: the call fails with CANCELLED and nothing throws', async () => {
  // Nothing listens there, so each attempt fails UNAVAILABLE and the retry waits before the next one.
  const address = `127.0.0.1:${await findFreePort()}`;
  const statuses: number[] = [];
  const spy = attemptSpy((s) => {
    statuses.push(s.code);
    // Closed after the first attempt failed: the retry's timer is already set.
    if (statuses.length === 1) void connection.close();
  });
  const connection = Connection.lazy({ address, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), spy, closedConnectionGuard] });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const err = await connection.workflowService.getSystemInfo({}).then(
      () => undefined,
      (e: unknown) => e as { code?: number; details?: string },
    );
    expect(err?.code).toBe(1); // CANCELLED: the retry does not try again
    expect(err?.details).toMatch(/shut down|closed/i);
    expect(statuses).toEqual([14, 1]); // UNAVAILABLE, then the guard's CANCELLED
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

test('the product and its tests open their connections with the retry first and the guard beneath it', () => {
  const chain = temporalClientInterceptors();
  expect(chain).toHaveLength(2);
  expect(chain[1]).toBe(closedConnectionGuard);
});
