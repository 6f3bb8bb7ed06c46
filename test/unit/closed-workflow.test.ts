import { Metadata } from '@grpc/grpc-js';
import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { errors as bridgeErrors } from '@temporalio/core-bridge';
import { isClosedWorkflow, isTemporalUnavailable } from '../../services/temporal';

/** The one reading of "that run is gone", whichever client raised it. */

const grpcError = (code: number) => Object.assign(new Error(`${code} gRPC error`), { code, details: '', metadata: new Metadata() });

test('a gRPC NOT_FOUND means closed, raw or wrapped by the client', () => {
  expect(isClosedWorkflow(new WorkflowNotFoundError('gone', 'wf', undefined))).toBe(true);
  expect(isClosedWorkflow(grpcError(5))).toBe(true);
  expect(isClosedWorkflow(new ServiceError('signal failed', { cause: grpcError(5) }))).toBe(true);
});

test("a client on the worker's native connection (an activity's getClient) raises NOT_FOUND on its own ServiceError, and it means closed too", () => {
  const native = new bridgeErrors.ServiceError('workflow not found for ID: journey.acme.c_1', 5, '', new Metadata() as never);
  expect(native).toBeInstanceOf(ServiceError);
  expect(isClosedWorkflow(native)).toBe(true);
});

test('other failures are not read as closed', () => {
  expect(isClosedWorkflow(grpcError(14))).toBe(false);
  expect(isClosedWorkflow(new bridgeErrors.ServiceError('unavailable', 14, '', new Metadata() as never))).toBe(false);
  expect(isClosedWorkflow(new Error('boom'))).toBe(false);
});

test('the native client\'s UNAVAILABLE reads as Temporal not answering, as the other clients\' does', () => {
  expect(isTemporalUnavailable(new bridgeErrors.ServiceError('unavailable', 14, '', new Metadata() as never))).toBe(true);
  expect(isTemporalUnavailable(new ServiceError('call failed', { cause: grpcError(14) }))).toBe(true);
  expect(isTemporalUnavailable(grpcError(5))).toBe(false);
});
