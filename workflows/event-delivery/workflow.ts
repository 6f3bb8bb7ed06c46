import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EventDeliveryActivities } from '../../activities/event-delivery';
import { DEFAULT_DELIVERY_SETTINGS, retryDelayMs, type DeliverySettings } from '../../domain/consent-events';
import {
  deliveryStateQuery,
  eventsAppendedSignal,
  replayEventsSignal,
  stopDeliverySignal,
  type EventDeliveryEnd,
  type EventDeliveryInput,
  type EventDeliveryState,
} from './contract';

/** A round sends up to a batch of POSTs, each with its own timeout; the activity only fails when the store does, and then retries. */
const { deliverPendingEvents, replayEvents } = proxyActivities<EventDeliveryActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Past this many history events the run continues as new, so a cache miss replays a short history. */
const MAX_HISTORY_EVENTS = 2_000;
const MAX_QUEUED_REPLAYS = 20;

/**
 * One endpoint's delivery loop (contract.ts). Each round is one activity: read the ledger from the
 * watermark, send what the endpoint has not had, in order per contact, and report the new watermark.
 * A round that could not deliver waits the backoff (wakes do not shorten it: the receiver is down);
 * an idle loop waits for a wake, or looks anyway after `idleCheckMs`.
 */
export async function eventDeliveryWorkflow(input: EventDeliveryInput): Promise<EventDeliveryEnd> {
  const settings: DeliverySettings = { ...DEFAULT_DELIVERY_SETTINGS, ...input.settings };
  const s: EventDeliveryState = input.carried ?? { watermark: input.deliverFrom, failedRounds: 0, replays: [], delivered: 0 };
  let woken = false;
  let stopped = false;

  setHandler(eventsAppendedSignal, () => {
    woken = true;
  });
  setHandler(stopDeliverySignal, () => {
    stopped = true;
  });
  setHandler(replayEventsSignal, (r) => {
    if (s.replays.some((q) => q.requestId === r.requestId) || s.replays.length >= MAX_QUEUED_REPLAYS) return;
    s.replays.push({ requestId: r.requestId, since: r.since });
  });
  setHandler(deliveryStateQuery, () => s);

  const backOff = async (failed: number) => {
    if (failed === 0) {
      s.failedRounds = 0;
      return;
    }
    s.failedRounds += 1;
    await condition(() => stopped, retryDelayMs(settings, s.failedRounds));
  };

  for (;;) {
    if (stopped) return { reason: 'endpoint_deleted', delivered: s.delivered };
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof eventDeliveryWorkflow>({ ...input, carried: s });
    }
    woken = false;
    const replay = s.replays[0];
    if (replay) {
      const r = await replayEvents({ endpointId: input.endpointId, since: replay.since, key: replay.key, settings });
      if (r.endpointGone) return { reason: 'endpoint_deleted', delivered: s.delivered };
      replay.key = r.key ?? replay.key;
      if (r.done) s.replays.shift();
      await backOff(r.failed);
      continue;
    }
    const r = await deliverPendingEvents({ endpointId: input.endpointId, watermark: s.watermark, settings });
    if (r.endpointGone) return { reason: 'endpoint_deleted', delivered: s.delivered };
    s.watermark = r.watermark;
    s.delivered += r.delivered;
    await backOff(r.failed);
    if (r.failed > 0 || r.more) continue;
    await condition(() => woken || stopped || s.replays.length > 0, settings.idleCheckMs);
  }
}
