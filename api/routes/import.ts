import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { importIdPattern, MAX_IMPORT_ROWS } from '../../domain/consent-import';
import { importConsents } from '../../services/consent-import';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { readImportCsv } from '../import-csv';

const importId = z.string().regex(importIdPattern, 'must be 1-100 letters, digits, _ . : or -');

/** Rows are checked one by one by the service, so one bad row is reported, not the whole import refused. */
export const jsonImportSchema = z.object({
  businessId: z.string().min(1),
  importId,
  rows: z.array(z.record(z.string(), z.unknown())).min(1, 'must list at least one row').max(MAX_IMPORT_ROWS, `at most ${MAX_IMPORT_ROWS} rows per import`),
});

export const csvImportQuerySchema = z.object({ businessId: z.string().min(1), importId });

export function registerImportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  // Registered here too: the campaign routes' parser belongs to their own registration.
  if (!app.hasContentTypeParser('text/csv')) app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  /** Consents collected elsewhere, each row with its evidence; the same importId again answers the first import's report. */
  app.post('/consents/import', async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '');
    const req = type.startsWith('text/csv')
      ? { ...parseOr400(csvImportQuerySchema, request.query, 'query'), rows: await readImportCsv(request.body as Readable) }
      : parseOr400(jsonImportSchema, request.body, 'body');
    const report = await importConsents(deps, { ...req, actor: keyActor(request) });
    return reply.status(report.existing ? 200 : 201).send(report);
  });
}
