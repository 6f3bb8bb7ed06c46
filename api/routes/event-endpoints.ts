import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DELIVERY_STATUSES } from '../../domain/consent-events';
import { deleteEventEndpoint, eventDeliveries, listEventEndpoints, registerEventEndpoint, replayEventsTo } from '../../services/event-endpoints';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], 'must be a date (2025-06-01) or a date and time with an offset (2025-06-01T12:00:00Z)').transform((s) => new Date(s));

export const newEndpointBody = z.object({
  businessId: z.string().min(1).max(100),
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(2000)
    .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials (the signature authenticates us)'),
  secret: z.string().min(32, 'must be at least 32 characters').max(200).optional(),
  description: z.string().min(1).max(200).optional(),
});

export const listQuery = z.object({ businessId: z.string().min(1).max(100) });
export const endpointParams = z.object({ endpointId: z.string().regex(/^ep_[0-9a-f]{16}$/, 'must be an endpoint id as returned by POST /v1/event-endpoints') });
export const deliveriesQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: instant.optional(),
});
export const replayBody = z.object({ since: instant });

/** Consent-change event endpoints (docs/events.md). */
export function registerEventEndpointRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/event-endpoints', async (request, reply) => {
    const body = parseOr400(newEndpointBody, request.body, 'body');
    return reply.status(201).send(await registerEventEndpoint(deps, body));
  });

  app.get('/event-endpoints', async (request) => {
    const q = parseOr400(listQuery, request.query, 'query');
    return listEventEndpoints(deps, q.businessId);
  });

  app.delete('/event-endpoints/:endpointId', async (request) => {
    const { endpointId } = parseOr400(endpointParams, request.params, 'path');
    return deleteEventEndpoint(deps, endpointId);
  });

  app.get('/event-endpoints/:endpointId/deliveries', async (request) => {
    const { endpointId } = parseOr400(endpointParams, request.params, 'path');
    const q = parseOr400(deliveriesQuery, request.query, 'query');
    return eventDeliveries(deps, endpointId, q);
  });

  app.post('/event-endpoints/:endpointId/replay', async (request, reply) => {
    const { endpointId } = parseOr400(endpointParams, request.params, 'path');
    const body = parseOr400(replayBody, request.body, 'body');
    return reply.status(202).send(await replayEventsTo(deps, endpointId, body.since));
  });
}
