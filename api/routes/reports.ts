import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { consentReport, reportLink } from '../../services/reports';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;
export const REPORT_LINK_MAX_MINUTES = 7 * 24 * 60;

/** A date (2025-06-01, midnight UTC) or a date and time with its offset (2025-06-01T12:00:00Z). */
export const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], 'must be a date (2025-06-01) or a date and time with an offset (2025-06-01T12:00:00Z)').transform((s) => new Date(s));

/** The report's window: `to` defaults to now, `from` to midnight UTC 30 days before (so whole days can come from the daily aggregate). */
export const reportWindow = {
  from: instant.optional(),
  to: instant.optional(),
};

export function windowOf<T extends { from?: Date; to?: Date }>(q: T): T & { from: Date; to: Date } {
  const to = q.to ?? new Date();
  return { ...q, to, from: q.from ?? new Date(Math.floor((to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) / DAY_MS) * DAY_MS) };
}

export function checkWindow(q: { from: Date; to: Date }, ctx: z.RefinementCtx): void {
  if (q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
  else if (q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: `must be at most ${MAX_RANGE_DAYS} days before to` });
}

export const consentReportQuery = z
  .object({
    businessId: z.string().min(1).max(100),
    ...reportWindow,
    interval: z.enum(['day', 'week']).default('day'),
    groupBy: z.enum(['channel', 'method', 'category', 'campaign']).default('channel'),
    fresh: z.enum(['true', 'false'], 'must be "true" or "false"').default('false').meta({ description: 'true computes from the store instead of the daily aggregate' }),
  })
  .transform((q) => ({ ...windowOf(q), fresh: q.fresh === 'true' }))
  .superRefine(checkWindow);

export const reportLinkQuery = z.object({
  businessId: z.string().min(1).max(100),
  validForMinutes: z.coerce.number().int().min(1).max(REPORT_LINK_MAX_MINUTES, `must be at most ${REPORT_LINK_MAX_MINUTES} (7 days)`).default(60),
});

export function registerReportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/reports/consent', async (request) => {
    const q = parseOr400(consentReportQuery, request.query, 'query');
    return consentReport(deps, q);
  });

  /** A link to the report page that works without the API key until it expires: for a campaign owner's browser. */
  app.get('/reports/link', async (request) => {
    const q = parseOr400(reportLinkQuery, request.query, 'query');
    return reportLink(deps, q.businessId, q.validForMinutes);
  });
}
