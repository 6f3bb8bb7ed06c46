import { InterceptingCall, Metadata, status, type InterceptingListener, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/** What the next interceptor hands back (grpc-js does not export its name). */
type InterceptingCallInterface = ReturnType<Parameters<Interceptor>[1]>;

/**
 * A call that ends at once with CANCELLED, which the client's retry does not retry: what a call made
 * on a closed connection becomes instead of an exception.
 */
function endedCall(details: string): InterceptingCallInterface {
  return {
    start(_metadata: Metadata, listener?: Partial<InterceptingListener>) {
      setImmediate(() => listener?.onReceiveStatus?.({ code: status.CANCELLED, details, metadata: new Metadata() }));
    },
    cancelWithStatus() {},
    getPeer: () => '',
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
    getAuthContext: () => null,
  };
}

/**
 * The Temporal client retries a failed call on a timer (up to ten attempts, about 17 s in all). When
 * the connection is closed during one of those waits (a process shutting down while Temporal is
 * unreachable, a test stack torn down right after Temporal came back), the retry's timer creates the
 * next attempt on the closed channel, which throws there, outside any caller: an uncaught exception.
 * Below the retry, this turns that throw into a call that fails, so the caller gets an error instead.
 */
export const closedConnectionGuard: Interceptor = (options, nextCall) => {
  let call: InterceptingCallInterface;
  try {
    call = nextCall(options);
  } catch (err) {
    call = endedCall(err instanceof Error ? err.message : String(err));
  }
  return new InterceptingCall(call);
};

/** The client's default retry, and the guard beneath it; for every Connection the product and its tests open. */
export function temporalClientInterceptors(): Interceptor[] {
  return [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), closedConnectionGuard];
}
