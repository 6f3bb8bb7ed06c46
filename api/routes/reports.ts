import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { consentReport } from '../../services/reports';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

/** A date (2025-06-01, midnight UTC) or a date and time with its offset (2025-06-01T12:00:00Z). */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], 'must be a date (2025-06-01) or a date and time with an offset (2025-06-01T12:00:00Z)').transform((s) => new Date(s));

const consentReportQuery = z
  .object({
    businessId: z.string().min(1).max(100),
    from: instant.optional(),
    to: instant.optional(),
    interval: z.enum(['day', 'week']).default('day'),
    groupBy: z.enum(['channel', 'method', 'category', 'campaign']).default('channel'),
  })
  .transform((q) => {
    const to = q.to ?? new Date();
    return { ...q, to, from: q.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) };
  })
  .superRefine((q, ctx) => {
    if (q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    else if (q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: `must be at most ${MAX_RANGE_DAYS} days before to` });
  });

export function registerReportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/reports/consent', async (request) => {
    const q = parseOr400(consentReportQuery, request.query, 'query');
    return consentReport(deps, q);
  });
}
