import { boundPayload } from '../domain/payload';
import { keepPayload } from '../store/payloads';
import { withinMs } from '../lib/within-ms';
import type { ServiceDeps } from './deps';

/**
 * How long keeping a payload may hold up a webhook's answer. The store being down must not cost an
 * event its acknowledgement: past this the input carries the summary alone, which is the proof then.
 */
export const KEEP_PAYLOAD_WAIT_MS = 1_000;

/** What a workflow input carries of an inbound payload: a bounded summary, and the reference of the stored whole when the summary had to cut. */
export interface InboundPayloadRef {
  payload: Record<string, unknown>;
  payloadRef?: string;
}

/**
 * Readies a contact's or provider's payload for a workflow input keyed by `ref` (the workflow id). A
 * payload that fits whole travels as it is (every real webhook); one that does not (a value of
 * megabytes, a field named "$where") is kept in the store first and the input carries its reference.
 */
export async function inboundPayload(deps: Pick<ServiceDeps, 'store'>, ref: string, raw: Record<string, unknown>): Promise<InboundPayloadRef> {
  const { payload, changed } = boundPayload(raw);
  if (!changed) return { payload };
  const kept = await withinMs(keepPayload(deps.store, ref, raw).then(() => true, () => false), KEEP_PAYLOAD_WAIT_MS);
  return kept ? { payload, payloadRef: ref } : { payload };
}
