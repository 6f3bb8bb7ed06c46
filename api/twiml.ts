import type { FastifyReply } from 'fastify';

/** Voice webhooks answer Twilio with a TwiML document. */
export function twiml(reply: FastifyReply, xml: string) {
  return reply.status(200).header('content-type', 'text/xml; charset=utf-8').send(xml);
}
