import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { cancelJourney, readJourney, startJourney } from '../../services/journeys';
import { keyActor } from '../access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { startJourneyBodySchema } from '../schemas';

export const journeyIdParams = z.object({ journeyId: z.string().min(1).max(200) });
export const cancelBody = z.object({ reason: z.string().max(500).optional() }).default({});

export function registerJourneyRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/journeys', async (request, reply) => {
    const body = parseOr400(startJourneyBodySchema, request.body, 'body');
    const started = await startJourney(deps, { ...body, actor: keyActor(request) });
    return reply.status(started.existing ? 200 : 202).send(started);
  });

  app.get('/journeys/:journeyId', async (request) => {
    const { journeyId } = parseOr400(journeyIdParams, request.params, 'params');
    return readJourney(deps, journeyId);
  });

  app.post('/journeys/:journeyId/cancel', async (request) => {
    const { journeyId } = parseOr400(journeyIdParams, request.params, 'params');
    const { reason } = parseOr400(cancelBody, request.body ?? {}, 'body');
    return cancelJourney(deps, journeyId, reason, request.log);
  });
}
