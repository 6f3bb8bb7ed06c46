import { z } from 'zod';

const journeyCounts = z.object({
  started: z.number().int(),
  active: z.number().int(),
  confirmed: z.number().int(),
  declined: z.number().int(),
  expired: z.number().int(),
  optedOut: z.number().int(),
  cancelled: z.number().int(),
  optInRate: z.number().nullable().meta({ description: 'confirmed over ended journeys' }),
});
const durationStats = z.object({ count: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }).meta({ description: 'seconds; nearest-rank percentiles of durations kept to three significant digits (under the exact value by less than 1 %)' });
const tallies = z.record(z.string(), z.number().int());

/** The consent report's answer (domain/consent-report.ts), as integrators read it. */
export const CONSENT_REPORT_SHAPE = {
  businessId: z.string(),
  from: z.string(),
  to: z.string(),
  interval: z.enum(['day', 'week']),
  groupBy: z.enum(['channel', 'method', 'category', 'campaign']),
  journeys: journeyCounts,
  groups: z.array(journeyCounts.extend({ key: z.string() })),
  optOuts: z.object({
    total: z.number().int(),
    bySource: tallies,
    byChannel: tallies,
    byCategory: tallies,
    byKeyword: z.array(z.object({ keyword: z.string(), language: z.string().nullable(), count: z.number().int() })),
  }),
  messages: z.object({
    sent: z.number().int(),
    byChannel: tallies,
    optOutRate: z.number().nullable().meta({ description: 'opt-outs per message the provider accepted (opt-out confirmations aside)' }),
  }),
  timeToHonour: z.object({ ledger: durationStats, confirmation: durationStats.extend({ withinFiveMinutes: z.number().nullable() }) }),
  answers: z.object({ byMethod: z.record(z.string(), z.object({ confirmed: z.number().int(), declined: z.number().int() })), timeToAnswer: z.record(z.string(), durationStats) }),
  series: z.array(z.object({ start: z.string(), journeys: journeyCounts, optOuts: z.number().int(), optOutsBySource: tallies })),
  computedFrom: z.enum(['daily', 'live']).meta({ description: 'daily: from the pre-aggregated days (whole-day windows once the report sweep ran), current as of asOf; live: read from the store now' }),
  asOf: z.string(),
  generatedAt: z.string(),
  tookMs: z.number(),
};
