import { Counter, Histogram } from 'prom-client';
import type { ChannelActivities } from '../activities/channel';
import type { ConsentActivities } from '../activities/consent';
import type { HonourAndConfirmActivities } from '../activities/optout-confirm';
import type { OptOutActivities } from '../activities/optout';
import { createMetricsRegistry, type MetricsRegistry } from '../lib/metrics';

/**
 * The worker's own metrics: what the activities did, read from their results by a wrapper around
 * them, so the activities themselves stay free of metrics. Journeys count once (the store says which
 * run ended one); a send retried after it reached the outbox, or an opt-out's ledger step run again
 * after a worker crash, counts again: rare enough not to matter for rates.
 */
export interface WorkerMetrics extends MetricsRegistry {
  sends: Counter<'channel' | 'purpose' | 'outcome'>;
  journeysEnded: Counter<'outcome'>;
  optOutRecorded: Histogram;
}

export function createWorkerMetrics(): WorkerMetrics {
  const base = createMetricsRegistry();
  const registers = [base.registry];
  return {
    ...base,
    sends: new Counter({
      name: 'optinflow_sends_total',
      help: 'Messages, calls and e-mails the send activity handled, by channel, purpose and outcome: sent, refused (the send gate: the contact opted out), ambiguous (the provider may have it: never resent), failed (the provider refused), error (retried)',
      labelNames: ['channel', 'purpose', 'outcome'] as const,
      registers,
    }),
    journeysEnded: new Counter({
      name: 'optinflow_journeys_ended_total',
      help: 'Opt-in journeys ended, by outcome: confirmed, declined, expired, opted_out, cancelled',
      labelNames: ['outcome'] as const,
      registers,
    }),
    optOutRecorded: new Histogram({
      name: 'optinflow_optout_recorded_seconds',
      help: 'Time to honour an opt-out: from the STOP (or other request) received to its ledger events written',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
  };
}

/** From the opt-out's receipt to its ledger events written (now, unless the writer said when). */
function observeOptOutRecorded(metrics: WorkerMetrics, receivedAt: string, recordedAt = Date.now()): void {
  metrics.optOutRecorded.observe(Math.max(0, recordedAt - Date.parse(receivedAt)) / 1000);
}

type Instrumented = Pick<ChannelActivities, 'send'> & Pick<ConsentActivities, 'finishJourney'> & Pick<OptOutActivities, 'recordOptOut' | 'honourOptOut'>;

/** The same activities, each of the instrumented ones reporting its result to the metrics. */
export function instrumentActivities<A extends Instrumented>(activities: A, metrics: WorkerMetrics): A {
  const { send, finishJourney, recordOptOut, honourOptOut } = activities;
  const optOutRecorded = (receivedAt: string) => observeOptOutRecorded(metrics, receivedAt);
  return {
    ...activities,
    async send(input) {
      const labels = { channel: input.channel, purpose: input.purpose };
      try {
        const result = await send(input);
        metrics.sends.inc({ ...labels, outcome: result.outcome });
        return result;
      } catch (err) {
        metrics.sends.inc({ ...labels, outcome: 'error' });
        throw err;
      }
    },
    async finishJourney(state) {
      const result = await finishJourney(state);
      if (result.ended) metrics.journeysEnded.inc({ outcome: state.status });
      return result;
    },
    async recordOptOut(input) {
      const result = await recordOptOut(input);
      optOutRecorded(input.receivedAt);
      return result;
    },
    async honourOptOut(input, opts) {
      const result = await honourOptOut(input, opts);
      optOutRecorded(input.receivedAt);
      return result;
    },
  } satisfies Instrumented as A;
}

/**
 * An opt-out its journey carried, whose acknowledgement wrote the ledger itself (`honoured`), is
 * observed from when that write was done, as the step that would have written it reports its own.
 */
export function instrumentComposedSteps<A extends Pick<HonourAndConfirmActivities, 'honourAndConfirm'>>(activities: A, metrics: WorkerMetrics): A {
  const { honourAndConfirm } = activities;
  return {
    ...activities,
    async honourAndConfirm(input) {
      const result = await honourAndConfirm(input);
      if (input.honoured) observeOptOutRecorded(metrics, input.optOut.receivedAt, Date.parse(input.honoured.at));
      return result;
    },
  } satisfies Pick<HonourAndConfirmActivities, 'honourAndConfirm'> as A;
}
