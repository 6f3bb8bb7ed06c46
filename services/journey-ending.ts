import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { HonourAndConfirmInput } from '../activities/optout-confirm';
import { journeyWorkflowId, optedOutSignal, type OptedOutEvent } from '../workflows/journey/contract';
import { isClosedWorkflow } from './temporal';

const SIGNAL_DEADLINE_MS = 10_000;

export interface JourneyOptOut {
  businessId: string;
  contactId: string;
  optOutId: string;
  /** When the contact opted out: the journey records it as its end. */
  at: string;
  /** That run only (a journey's record names it): false when it has ended, even if a newer run is open. */
  runId?: string;
  /** The opt-out's step, for a journey that carries it out itself (journeyWorkflowV5). */
  carried?: HonourAndConfirmInput;
}

/**
 * Tells the contact's running journey that an opt-out ends it. The acknowledgement sends it at once
 * and the opt-out's activity sends it again, as the durable path: both carry the same request id, so
 * the server records one signal and the journey sees one (the first to arrive, carrying the opt-out's
 * step or not). False when no journey runs.
 */
export async function signalJourneyOptedOut(client: Client, o: JourneyOptOut): Promise<boolean> {
  const event: OptedOutEvent = { optOutId: o.optOutId, at: o.at, ...(o.carried ? { carried: o.carried } : {}) };
  try {
    await client.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      client.workflowService.signalWorkflowExecution({
        namespace: client.options.namespace,
        workflowExecution: { workflowId: journeyWorkflowId(o.businessId, o.contactId), ...(o.runId ? { runId: o.runId } : {}) },
        signalName: optedOutSignal.name,
        input: { payloads: [defaultPayloadConverter.toPayload(event)] },
        identity: client.options.identity,
        requestId: `${o.optOutId}/journey`,
      }),
    );
    return true;
  } catch (err) {
    if (isClosedWorkflow(err)) return false;
    throw err;
  }
}
