import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { consentExport } from '../../services/exports';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

/** A date (2025-06-01, midnight UTC) or a date and time with its offset (2025-06-01T12:00:00Z). */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], 'must be a date (2025-06-01) or a date and time with an offset (2025-06-01T12:00:00Z)').transform((s) => new Date(s));

export const consentExportQuery = z
  .object({
    businessId: z.string().min(1).max(100),
    status: z.enum(['opted_in', 'opted_out']),
    category: z.string().min(1).max(100).optional(),
    since: instant.optional(),
    until: instant.optional(),
    format: z.enum(['ndjson', 'csv']).default('ndjson'),
  })
  .superRefine((q, ctx) => {
    if (q.since && q.until && q.since >= q.until) ctx.addIssue({ code: 'custom', path: ['since'], message: 'must be before until' });
  });

const CONTENT_TYPE = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

export function registerExportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /**
   * Streams the export: Fastify pipes the stream into the response, which pulls the next batch from
   * the store only when the client has taken the last one. The trailer line says whether it is complete.
   */
  app.get('/consents/export', async (request, reply) => {
    const q = parseOr400(consentExportQuery, request.query, 'query');
    const chunks = consentExport(deps, q, request.log);
    const name = `${q.businessId}-${q.status}${q.category ? `-${q.category}` : ''}.${q.format}`;
    return reply
      .type(CONTENT_TYPE[q.format])
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9_.-]/g, '_')}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks, { objectMode: false }));
  });
}
