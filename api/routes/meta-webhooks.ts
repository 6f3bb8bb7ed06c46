import type { FastifyInstance } from 'fastify';
import { receiveMetaEvents } from '../../services/meta-webhooks';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { readMetaEvents } from '../meta-events';
import { metaVerifyQuerySchema } from '../meta-schemas';
import { sameToken, validMetaSignature } from '../meta-signature';

/** Meta's webhooks are small; the bound only caps the work per request (an opt-out is never refused for its size). */
const META_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * WhatsApp on Meta's Cloud API: the subscription's verification challenge, and the signed webhooks
 * (messages, statuses, user_preferences, phone_number_quality_update, account_update). The JSON body
 * is kept as bytes until its signature is checked; only then is it parsed. Answered 200 only once
 * every event in it is durable, so Meta delivers again whatever we could not keep.
 */
export function registerMetaWebhookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: META_BODY_LIMIT }, (_request, body, done) => done(null, body));

    scope.get('/webhooks/meta', async (request, reply) => {
      if (!deps.meta) throw new HttpError(404, 'not_found', 'no business here sends WhatsApp through Meta');
      const q = parseOr400(metaVerifyQuerySchema, request.query, 'query');
      if (!sameToken(deps.meta.verifyToken, q['hub.verify_token'])) {
        request.log.warn('Meta webhook verification with a wrong verify token');
        return reply.status(403).send({ error: 'forbidden', message: 'hub.verify_token does not match META_VERIFY_TOKEN' });
      }
      return reply.type('text/plain').send(q['hub.challenge']);
    });

    scope.post('/webhooks/meta', async (request, reply) => {
      if (!deps.meta) throw new HttpError(404, 'not_found', 'no business here sends WhatsApp through Meta');
      const raw = request.body;
      if (!Buffer.isBuffer(raw)) throw new HttpError(415, 'unsupported_media_type', 'this endpoint takes application/json');
      if (!validMetaSignature(deps.meta.appSecret, raw, request.headers['x-hub-signature-256'])) {
        request.log.warn('Meta webhook signature missing or wrong');
        return reply.status(403).send({ error: 'forbidden', message: 'X-Hub-Signature-256 is missing or does not match this body' });
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid_request', 'body is not valid JSON');
      }
      const { events, ignored } = readMetaEvents(body, deps.businesses);
      for (const i of ignored) request.log.warn(i, 'Meta webhook change left out');
      const outcomes = await receiveMetaEvents(deps, events, request.log, deps.meta);
      for (const o of outcomes) if (o.optOut?.progress === 'pending') request.log.warn({ optOutId: o.optOut.optOutId, detail: o.optOut.detail }, 'opt-out acknowledged before it was fully applied');
      return reply.status(200).send({ received: events.length });
    });
  });
}
