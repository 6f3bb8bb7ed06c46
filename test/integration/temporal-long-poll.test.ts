import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Interceptor } from '@grpc/grpc-js';
import { InterceptingCall, ListenerBuilder, RequesterBuilder, status as grpcStatus } from '@grpc/grpc-js';
import { closedWithinMs } from '../../services/deadline';
import { parseJourneyId } from '../../workflows/journey/contract';
import { testTemporalAddress, testTemporalNamespace } from '../harness/servers';
import { startTestStack, type TestStack } from '../harness/stack';
import { eventually } from '../harness/wait';

/**
 * A bounded wait for a workflow to close must not leave its long poll running: a poll that outlives
 * its caller is still open when the connection closes, and if the server then goes away the client's
 * retry fires on the closed connection and throws where no caller can catch it.
 */

jest.setTimeout(60_000);

let stack: TestStack;
let connection: Connection;
let client: Client;
const calls: { method: string; code?: number }[] = [];

/** Notes every call this client makes and the status it ended with. */
const recordCalls: Interceptor = (options, nextCall) => {
  const call: { method: string; code?: number } = { method: options.method_definition.path };
  calls.push(call);
  const requester = new RequesterBuilder()
    .withStart((metadata, _listener, next) => {
      const listener = new ListenerBuilder()
        .withOnReceiveStatus((status, nextStatus) => {
          call.code = status.code;
          nextStatus(status);
        })
        .build();
      next(metadata, listener);
    })
    .build();
  return new InterceptingCall(nextCall(options), requester);
};

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'tlp' });
  connection = await Connection.connect({ address: testTemporalAddress(), interceptors: [recordCalls, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())] });
  client = new Client({ connection, namespace: testTemporalNamespace() });
});
afterAll(async () => {
  await connection?.close();
  await stack?.close();
});

const historyPolls = () => calls.filter((c) => c.method.endsWith('/GetWorkflowExecutionHistory'));

test('past its wait the long poll is cancelled on the wire; a closed run answers closed', async () => {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone: '+14155550861' }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '5m' }] });
  expect(r.status).toBe(202);
  const { workflowId } = parseJourneyId(r.body.journeyId)!;

  expect(await closedWithinMs(client, workflowId, 300)).toBeUndefined();
  const poll = historyPolls().at(-1);
  expect(poll).toBeDefined();
  // A server long poll lasts about 20 s; the call must end long before that, cancelled by the client.
  await eventually('the poll to end', async () => poll!.code !== undefined, 3_000);
  expect(poll!.code).toBe(grpcStatus.CANCELLED);

  expect((await stack.request('POST', `/v1/journeys/${encodeURIComponent(r.body.journeyId)}/cancel`, {})).status).toBeLessThan(300);
  expect(await closedWithinMs(client, workflowId, 20_000)).toBe('closed');
  expect(await closedWithinMs(client, 'no-such-workflow-tlp', 2_000).catch((err: Error) => err.name)).toBe('WorkflowNotFoundError');
});
