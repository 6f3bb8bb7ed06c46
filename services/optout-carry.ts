import { optOutStarted } from '../lib/metric-events';
import { closeJourneyRecord } from '../store/journeys';
import { readOutbox } from '../store/outbox';
import { optOutConfirmation, type ContactBlocked, type OptOutInput } from '../workflows/optout/contract';
import { withinMs } from '../lib/within-ms';
import type { ServiceDeps } from './deps';
import { signalJourneyOptedOut } from './journey-ending';

/** How long the journey's record may take to close before the opt-out starts its own workflow instead. */
const CARRY_CLOSE_WAIT_MS = 1_000;

/**
 * An opt-out that confirms (a STOP by SMS or WhatsApp) and reaches a running journey whose record
 * says it carries opt-outs (journeyWorkflowV5) needs no workflow of its own: the journey's `optedOut`
 * signal carries the opt-out's step (block, ledger, the one confirmation), which the journey runs in
 * the task that ends it (workflows/journey/carried-optouts.ts). That saves a workflow start, its
 * workflow task and its six history events per STOP, and the confirmation no longer waits in the task
 * queue behind every other workflow's task: the journey's task goes to its worker's own queue.
 *
 * Closes the journey's record first (store/journeys.ts), so only the run that record names is told,
 * and only if it is still open; true when that run has the step in its history. False otherwise (no
 * such journey, an older type, the run ended, Temporal refused or was slow): the caller then starts
 * the opt-out's workflow as before, which tells the journey with the same request id, so a journey
 * that did get this signal after all gets one, and the step's keys keep the confirmation to one.
 */
export async function carryToJourney(
  deps: ServiceDeps,
  input: OptOutInput,
  optOutId: string,
  { contactRead, applied }: { contactRead?: Promise<{ currentJourneyId?: string | null } | null>; applied?: Promise<ContactBlocked | undefined> } = {},
): Promise<boolean> {
  const closing = closeJourneyRecord(deps.store, { contactId: input.contactId, optOutId, receivedAt: input.receivedAt }, contactRead).catch(() => undefined);
  // A store that is slow or down must not hold the opt-out's start: past the wait, the workflow goes as before.
  const record = await withinMs(closing, CARRY_CLOSE_WAIT_MS);
  const journey = { businessId: input.businessId, contactId: input.contactId, optOutId, at: input.receivedAt };
  if (record?.carriesOptOuts && input.confirmOn) {
    // Sent once the acknowledgement's own block and ledger write are settled: when both went through,
    // the journey's step need not read them back.
    const honoured = applied ? await applied : undefined;
    const carried = { optOut: { ...input, optOutId }, confirmation: optOutConfirmation(input, optOutId, input.confirmOn), ...(honoured ? { honoured } : {}) };
    const taken = await signalJourneyOptedOut(deps.client, { ...journey, runId: record.runId, carried }).catch(() => false);
    if (taken) optOutStarted.publish({ source: input.source.kind, channel: input.channel });
    return taken;
  }
  // A head start for an older journey's end (or one whose record is not written yet), which need not
  // wait for the opt-out's first workflow task: not on a repeat, which could end a journey begun since.
  if (input.confirmOn) void signalJourneyOptedOut(deps.client, journey).catch(() => undefined);
  return false;
}

/**
 * A repeated delivery of an opt-out that confirms: true once its confirmation has been claimed, which
 * its step does only after blocking and writing the ledger, by its workflow or by the journey that
 * carried it. Blocking again then could only undo a START the contact has sent since.
 */
export async function confirmationClaimed(deps: ServiceDeps, input: OptOutInput, optOutId: string): Promise<boolean> {
  if (!input.confirmOn) return false;
  return (await readOutbox(deps.store, optOutConfirmation(input, optOutId, input.confirmOn).idempotencyKey)) !== null;
}
