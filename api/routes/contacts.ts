import { keyActor } from '../access';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { eraseContact } from '../../services/erasure';
import { exportContact } from '../../services/subject-access';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';
import { phoneField } from '../schemas';

export const exportQuery = z.strictObject({ businessId: z.string().min(1).max(100), phone: phoneField });

export const eraseBodySchema = z.strictObject({
  businessId: z.string().min(1).max(100),
  phone: phoneField,
  requestId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits, _ . : or -'),
});

/** A person's data: the subject-access export and erasure (docs/compliance.md). */
export function registerContactRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/contacts/export', async (request) => {
    const q = parseOr400(exportQuery, request.query, 'query');
    return exportContact(deps, q.businessId, q.phone);
  });

  app.post('/contacts/erase', async (request) => {
    const body = parseOr400(eraseBodySchema, request.body, 'body');
    return eraseContact(deps, { ...body, callerId: request.callerId, actor: keyActor(request) }, request.log);
  });
}
