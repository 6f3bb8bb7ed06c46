import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { MAX_CAMPAIGN_ROWS, SKIP_REASONS } from '../../domain/campaign';
import { campaignRows, campaignView } from '../../services/campaign-view';
import { cancelCampaign, createCampaign, findCampaign, openCampaign, pauseCampaign, resumeCampaign } from '../../services/campaigns';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { readCsvRows } from '../campaign-csv';
import { parseOr400 } from '../errors';
import { categoriesField, planSchema } from '../schemas';

const rawRowSchema = z.object({
  phone: z.string().max(64).optional(),
  email: z.string().max(320).optional(),
  locale: z.string().max(20).optional(),
  timezone: z.string().max(64).optional(),
  name: z.string().max(500).optional(),
});

const campaignMetaSchema = z.object({
  businessId: z.string().min(1),
  name: z.string().min(1).max(120),
  categories: categoriesField,
  plan: planSchema.optional(),
});

export const jsonCampaignSchema = campaignMetaSchema.extend({
  contacts: z.array(rawRowSchema).min(1, 'must list at least one contact').max(MAX_CAMPAIGN_ROWS, `at most ${MAX_CAMPAIGN_ROWS} contacts per campaign`),
});

export const csvQuerySchema = z.object({
  businessId: z.string().min(1),
  name: z.string().min(1).max(120),
  categories: z.string().min(1).transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean)).pipe(categoriesField),
  plan: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of plan steps' });
        return z.NEVER;
      }
    })
    .pipe(planSchema.optional()),
});

export const campaignIdParams = z.object({ campaignId: z.string().regex(/^cmp_[0-9a-f]{16}$/, 'must be a campaign id as returned by POST /v1/campaigns') });
export const rowsQuerySchema = z.object({
  outcome: z.enum(['accepted', 'skipped']).optional(),
  reason: z.enum(SKIP_REASONS).optional(),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const cancelBodySchema = z.object({ journeys: z.enum(['finish', 'cancel']).default('finish'), reason: z.string().max(500).optional() }).default({ journeys: 'finish' });

export function registerCampaignRoutes(app: FastifyInstance, deps: ApiDeps): void {
  // The CSV streams into the parser, which enforces its own size limit instead of buffering 10 MB first.
  app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  app.post('/campaigns', async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '');
    if (type.startsWith('text/csv')) {
      const meta = parseOr400(csvQuerySchema, request.query, 'query');
      const rows = await readCsvRows(request.body as Readable);
      return reply.status(202).send(await createCampaign(deps, { ...meta, rows, createdBy: keyActor(request) }, request.log));
    }
    const { contacts, ...meta } = parseOr400(jsonCampaignSchema, request.body, 'body');
    return reply.status(202).send(await createCampaign(deps, { ...meta, rows: contacts, createdBy: keyActor(request) }, request.log));
  });

  app.get('/campaigns/:campaignId', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    return campaignView(deps, await openCampaign(deps, campaignId, request.log));
  });

  app.get('/campaigns/:campaignId/rows', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const q = parseOr400(rowsQuerySchema, request.query, 'query');
    return { campaignId, ...(await campaignRows(deps, await findCampaign(deps, campaignId), q)) };
  });

  app.post('/campaigns/:campaignId/pause', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    return pauseCampaign(deps, campaignId, request.log);
  });

  app.post('/campaigns/:campaignId/resume', async (request) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    return resumeCampaign(deps, campaignId, request.log);
  });

  app.post('/campaigns/:campaignId/cancel', async (request, reply) => {
    const { campaignId } = parseOr400(campaignIdParams, request.params, 'params');
    const req = parseOr400(cancelBodySchema, request.body ?? {}, 'body');
    return reply.status(202).send(await cancelCampaign(deps, campaignId, req, request.log));
  });
}
