import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { journeyStarted, optOutAnswered, optOutStarted, unhandledRejection } from './metric-events';

/**
 * What the API and the worker both expose: process metrics and the counters of things that happen
 * in either (a campaign's journeys start in the worker, a single journey in the API). Label values
 * come from closed lists, so a caller-supplied string can never blow up the number of series.
 */

const JOURNEY_SOURCES = new Set(['api', 'cli', 'campaign', 'agent', 'web_form', 'preferences_page', 'missed_call', 'in_thread_start']);
const OPTOUT_SOURCES = new Set(['keyword', 'whatsapp_button', 'ivr_keypress', 'unsubscribe_link', 'preferences_page', 'provider', 'sms', 'whatsapp', 'ivr', 'email', 'web', 'api', 'agent']);
const CHANNELS = new Set(['sms', 'whatsapp', 'ivr', 'email', 'web', 'api', 'agent', 'provider']);
const PROGRESS = new Set(['blocked', 'accepted', 'already_done', 'queued', 'pending']);

/** The value itself when it is one of `known`, else "other". */
export const bounded = (known: ReadonlySet<string>, value: string | undefined): string => (value && known.has(value) ? value : 'other');

export interface MetricsRegistry {
  registry: Registry;
  /** Stops listening to the application's events. */
  close(): void;
}

export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const journeys = new Counter({
    name: 'optinflow_journeys_started_total',
    help: 'Opt-in journeys started, by the channel of their first step and what asked for them',
    labelNames: ['channel', 'source'] as const,
    registers: [registry],
  });
  const optOuts = new Counter({
    name: 'optinflow_optouts_total',
    help: 'Opt-outs Temporal took up, their workflow started or their journey told to carry them out (each opt-out once), by source (keyword, whatsapp_button, ivr_keypress, unsubscribe_link, preferences_page, provider, api, agent, ...)',
    labelNames: ['source', 'channel'] as const,
    registers: [registry],
  });
  const answered = new Counter({
    name: 'optinflow_optout_requests_total',
    help: 'Opt-out requests answered (webhooks, pages, API), by how far the opt-out had got when answered: blocked, accepted, already_done, queued (Temporal slow: kept in the store), pending (answered before the block)',
    labelNames: ['source', 'progress'] as const,
    registers: [registry],
  });
  const unhandled = new Counter({
    name: 'optinflow_unhandled_rejections_total',
    help: 'Promises that rejected with no handler; each was logged and the process went on (a bug to report: some caller did not wait for a failure)',
    registers: [registry],
  });

  const unsubscribes = [
    journeyStarted.subscribe((e) => journeys.inc({ channel: bounded(CHANNELS, e.channel), source: e.campaign ? 'campaign' : bounded(JOURNEY_SOURCES, e.source) })),
    optOutStarted.subscribe((e) => optOuts.inc({ source: bounded(OPTOUT_SOURCES, e.source), channel: bounded(CHANNELS, e.channel) })),
    optOutAnswered.subscribe((e) => answered.inc({ source: bounded(OPTOUT_SOURCES, e.source), progress: bounded(PROGRESS, e.progress) })),
    unhandledRejection.subscribe(() => unhandled.inc()),
  ];
  return {
    registry,
    close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      registry.clear();
    },
  };
}
