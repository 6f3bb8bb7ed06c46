import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sealBusinessLedger, verifyBusinessLedger } from '../../services/ledger';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

export const businessOnly = z.strictObject({ businessId: z.string().min(1).max(100) });

export function registerLedgerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** 200 with `ok: false` and the broken links when a chain does not verify: the walk itself succeeded. */
  app.get('/ledger/verify', async (request) => {
    const q = parseOr400(businessOnly, request.query, 'query');
    return verifyBusinessLedger(deps, q.businessId);
  });

  app.post('/ledger/seal', async (request) => {
    const body = parseOr400(businessOnly, request.body, 'body');
    return sealBusinessLedger(deps, body.businessId);
  });
}
