import { defineSignal } from '@temporalio/workflow';
import { defineWorkflowRef } from '../../workflows/workflow-ref';

/**
 * The bare baseline of `bench:journeys`: a workflow of an SMS journey's shape (request → wait for the
 * reply → record → confirmation) whose steps do nothing, so what it costs is what Temporal and the
 * SDK cost for that shape on this machine.
 */

export interface BareJourneyInput {
  /** How long the journey waits for the reply, like a plan step's `waitFor`. */
  waitForMs: number;
}

export interface BareReply {
  decision: 'confirm' | 'decline';
  receivedAt: string;
}

export type BareJourneyResult = 'confirmed' | 'declined' | 'expired';

export const BARE_JOURNEY_WORKFLOW_TYPE = 'bareJourneyWorkflow';
export const bareJourneyWorkflowRef = defineWorkflowRef<BareJourneyInput, BareJourneyResult>(BARE_JOURNEY_WORKFLOW_TYPE);

export const bareReplySignal = defineSignal<[BareReply]>('reply');

/** One id per journey and run of the benchmark, so a second pass on the same server starts fresh workflows. */
export function bareJourneyWorkflowId(pass: string, index: number): string {
  return `bare.${pass}.${index}`;
}

/** What the bare activities tell the benchmark, one line on the worker's stdout each: its stand-in for the carrier. */
export type BareStep = 'requested' | 'recorded' | 'confirmed';
export const BARE_NOTE_PREFIX = 'bare-step ';
export const BARE_READY_LINE = 'bare-worker ready';
