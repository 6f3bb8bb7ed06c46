import type { SignalDefinition } from '@temporalio/workflow';
import { recordInboundMessage } from '../store/inbound';
import { dropPendingEvent, keepPendingEvent, listPendingEvents, type PendingEventDoc } from '../store/pending-events';
import { answerOf, inboundWorkflowId, type InboundMessageInput } from '../workflows/inbound/contract';
import { contactAnsweredSignal, ivrNoAnswerSignal, journeyWorkflowId, providerStatusSignal } from '../workflows/journey/contract';
import { closedWithinMs } from './deadline';
import type { ServiceDeps, ServiceLog } from './deps';
import { handOverOrKeep } from './durable';
import { signalIfRunning, within } from './temporal';
import { startInboundWorkflow } from './workflow-starts';

/** The journey signals a webhook sends, by name, so a kept one can be sent later with its definition. */
const JOURNEY_SIGNALS = {
  contactAnswered: contactAnsweredSignal,
  ivrNoAnswer: ivrNoAnswerSignal,
  providerStatus: providerStatusSignal,
} as const;
export type JourneySignalName = keyof typeof JOURNEY_SIGNALS;
type ArgOf<N extends JourneySignalName> = (typeof JOURNEY_SIGNALS)[N] extends SignalDefinition<[infer A]> ? A : never;

/** How long the sweep waits for one kept reply's workflow before handing over the contact's next one, so they apply in order. */
const IN_ORDER_WAIT_MS = 10_000;
const PENDING_BATCH = 500;
const STREAMS_AT_ONCE = 20;

/** How long a reply waits to reach a running journey directly before going the way of its own workflow. */
const DIRECT_WAIT_MS = 2_000;
/** Replies a running journey takes as they are; START (opt_in) and HELP need the inbound workflow's routing. */
const DIRECT_INTENTS: ReadonlySet<string> = new Set(['yes', 'no', 'other']);

/**
 * A reply to the contact's running journey goes straight to it: one signal and no workflow of its own
 * (the inbound workflow cost a start and two workflow tasks per reply). A repeated delivery is one
 * answer to the journey (it ignores a provider id it has seen). False when the reply is not for a
 * journey, none runs, or Temporal did not answer at once: the reply's own workflow then takes it.
 */
export async function answerJourneyDirectly(deps: ServiceDeps, input: InboundMessageInput, log: ServiceLog): Promise<boolean> {
  if (!DIRECT_INTENTS.has(input.intent)) return false;
  let delivered: boolean;
  try {
    delivered = await within(deps.client, DIRECT_WAIT_MS, 'Temporal', () => signalIfRunning(deps.client, journeyWorkflowId(input.businessId, input.contactId), undefined, contactAnsweredSignal, answerOf(input)));
  } catch {
    return false;
  }
  if (!delivered) return false;
  // The journey has the answer (and its proof); this copy is the inbound log and the WhatsApp window.
  await recordInboundMessage(deps.store, input, 'journey').catch((err: unknown) => log.warn({ err, messageSid: input.messageSid }, 'a reply reached its journey but the inbound record was not written'));
  return true;
}

/** A reply or other message (not an opt-out): its own workflow, keyed by MessageSid, hands it to the contact's journey. */
export async function deliverInboundMessage(deps: ServiceDeps, input: InboundMessageInput): Promise<'taken' | 'kept'> {
  const id = `msg.${input.messageSid}`;
  const r = await handOverOrKeep(
    startInboundWorkflow(deps, input),
    () => keepPendingEvent(deps.store, id, input.contactId, { kind: 'inbound_message', input }),
    () => dropPendingEvent(deps.store, id),
  );
  return r.taken ? 'taken' : 'kept';
}

/**
 * Signals a journey run about a contact's event. 'ended': the run is over (a late answer). 'kept':
 * Temporal did not answer in time; the event is in the store and the sweep signals the run later.
 */
export async function signalJourney<N extends JourneySignalName>(deps: ServiceDeps, eventId: string, run: { workflowId: string; runId?: string }, name: N, arg: ArgOf<N>): Promise<'delivered' | 'ended' | 'kept'> {
  const signal = JOURNEY_SIGNALS[name] as SignalDefinition<[ArgOf<N>]>;
  const r = await handOverOrKeep(
    signalIfRunning(deps.client, run.workflowId, run.runId, signal, arg),
    () => keepPendingEvent(deps.store, `sig.${eventId}`, `${run.workflowId}.${run.runId ?? ''}`, { kind: 'journey_signal', workflowId: run.workflowId, runId: run.runId, signal: name, arg }),
    () => dropPendingEvent(deps.store, `sig.${eventId}`),
  );
  if (!r.taken) return 'kept';
  return r.value ? 'delivered' : 'ended';
}

async function handOver(deps: ServiceDeps, doc: PendingEventDoc): Promise<void> {
  const e = doc.event;
  if (e.kind === 'journey_signal') {
    const signal = JOURNEY_SIGNALS[e.signal as JourneySignalName] as SignalDefinition<[unknown]> | undefined;
    if (signal) await signalIfRunning(deps.client, e.workflowId, e.runId, signal, e.arg);
    return;
  }
  await startInboundWorkflow(deps, e.input);
  // The next kept reply of this contact waits for this one to reach the journey.
  await closedWithinMs(deps.client, inboundWorkflowId(e.input.messageSid), IN_ORDER_WAIT_MS).catch(() => undefined);
}

/**
 * Hands kept events to Temporal, oldest first. Each contact's (or run's) events go in the order they
 * arrived; one that fails stops its own stream until the next sweep and holds up no other.
 */
export async function handOverPendingEvents(deps: ServiceDeps, log: ServiceLog): Promise<{ handedOver: number; failed: number }> {
  const streams = new Map<string, PendingEventDoc[]>();
  for (const doc of await listPendingEvents(deps.store, PENDING_BATCH)) streams.set(doc.stream, [...(streams.get(doc.stream) ?? []), doc]);
  let handedOver = 0;
  let failed = 0;
  const drain = async (docs: PendingEventDoc[]) => {
    for (const doc of docs) {
      try {
        await handOver(deps, doc);
        await dropPendingEvent(deps.store, doc._id);
        handedOver++;
      } catch (err) {
        failed++;
        log.warn({ err, eventId: doc._id }, 'handing a kept event to Temporal failed; the next sweep tries again');
        return;
      }
    }
  };
  // A few streams at a time: a Temporal just back from an outage is not flooded with the whole backlog at once.
  const all = [...streams.values()];
  for (let k = 0; k < all.length; k += STREAMS_AT_ONCE) await Promise.all(all.slice(k, k + STREAMS_AT_ONCE).map(drain));
  return { handedOver, failed };
}
