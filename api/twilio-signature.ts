import type { FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';

/**
 * Twilio signs the full public URL it called plus the form fields. Behind a proxy the URL we see is
 * not the one Twilio called, so the public base URL comes from configuration.
 */
export function twilioSignatureGuard(authToken: string, publicBaseUrl: string) {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const signature = request.headers['x-twilio-signature'];
    const params = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
    const url = `${base}${request.url}`;
    if (typeof signature !== 'string' || !twilio.validateRequest(authToken, signature, url, params)) {
      request.log.warn({ path: request.url.split('?')[0] }, 'webhook signature missing or wrong');
      return reply.status(403).send({ error: 'forbidden', message: 'X-Twilio-Signature is missing or does not match this request' });
    }
  };
}
