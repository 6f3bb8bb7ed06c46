import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ALLOWED, mayActFor, type Allowed, type KeyActor } from '../domain/access';
import { findCampaign } from '../services/campaigns';
import { requireEndpoint } from '../services/event-endpoints';
import type { ServiceDeps } from '../services/deps';
import { InvalidInputError } from '../services/errors';
import { parseJourneyId } from '../workflows/journey/contract';
import { HttpError } from './errors';

/** Where a route's business is named. */
export type BusinessSource =
  /** The route is about no business (the caller's own key). */
  | 'none'
  /** `?businessId=`. */
  | 'query'
  /** The JSON body's `businessId`; for a CSV upload, whose body is the file, the query's. */
  | 'body'
  /** The business the `:journeyId` names. */
  | 'journey'
  /** The business of the `:campaignId`'s campaign, read from the store. */
  | 'campaign'
  /** The business of the `:endpointId`'s consent-change endpoint, read from the store. */
  | 'endpoint';

export interface AccessRule {
  allowed: Allowed;
  business: BusinessSource;
}

/**
 * Every /v1 route with the roles that may call it and where its business is named. A route missing
 * here stops the API from starting, so no route is ever reachable without a scope check.
 */
export const ROUTE_ACCESS: Record<string, AccessRule> = {
  'GET /v1/keys/me': { allowed: 'read', business: 'none' },
  'POST /v1/journeys': { allowed: 'campaigns', business: 'body' },
  'GET /v1/journeys/:journeyId': { allowed: 'read', business: 'journey' },
  'POST /v1/journeys/:journeyId/cancel': { allowed: 'campaigns', business: 'journey' },
  'GET /v1/consents': { allowed: 'read', business: 'query' },
  'POST /v1/optouts': { allowed: 'agent', business: 'body' },
  'POST /v1/consents/offline': { allowed: 'collected', business: 'body' },
  'POST /v1/consents/import': { allowed: 'campaigns', business: 'body' },
  'POST /v1/campaigns': { allowed: 'campaigns', business: 'body' },
  'GET /v1/campaigns/:campaignId': { allowed: 'read', business: 'campaign' },
  'GET /v1/campaigns/:campaignId/rows': { allowed: 'read', business: 'campaign' },
  'POST /v1/campaigns/:campaignId/pause': { allowed: 'campaigns', business: 'campaign' },
  'POST /v1/campaigns/:campaignId/resume': { allowed: 'campaigns', business: 'campaign' },
  'POST /v1/campaigns/:campaignId/cancel': { allowed: 'campaigns', business: 'campaign' },
  'POST /v1/agent/optin': { allowed: 'agent', business: 'body' },
  'GET /v1/reports/consent': { allowed: 'read', business: 'query' },
  'GET /v1/reports/link': { allowed: 'read', business: 'query' },
  'GET /v1/ledger/verify': { allowed: 'read', business: 'query' },
  'POST /v1/ledger/seal': { allowed: 'admin', business: 'body' },
  // Everything held about one person, and erasing it: compliance work, not a campaign's or an agent's.
  'GET /v1/contacts/export': { allowed: 'admin', business: 'query' },
  'POST /v1/contacts/erase': { allowed: 'admin', business: 'body' },
  'GET /v1/consents/export': { allowed: 'read', business: 'query' },
  // Endpoints receive every consent change of the business: who registers them is an admin decision.
  'POST /v1/event-endpoints': { allowed: 'admin', business: 'body' },
  'GET /v1/event-endpoints': { allowed: 'admin', business: 'query' },
  'DELETE /v1/event-endpoints/:endpointId': { allowed: 'admin', business: 'endpoint' },
  'GET /v1/event-endpoints/:endpointId/deliveries': { allowed: 'admin', business: 'endpoint' },
  'POST /v1/event-endpoints/:endpointId/replay': { allowed: 'admin', business: 'endpoint' },
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
}

/** HEAD routes Fastify adds for GET ones answer what the GET would. */
const ruleKey = (method: string, url: string) => `${method === 'HEAD' ? 'GET' : method} ${url}`;

const isStream = (body: unknown) => typeof (body as { pipe?: unknown } | null)?.pipe === 'function';

function businessIdIn(where: 'query' | 'body', input: unknown): string {
  const value = input !== null && typeof input === 'object' ? (input as Record<string, unknown>).businessId : undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new InvalidInputError(where, [{ field: 'businessId', rule: value === undefined ? 'is required' : 'must be a business id', value: typeof value === 'object' ? undefined : value }]);
}

async function businessOf(deps: ServiceDeps, request: FastifyRequest, source: BusinessSource): Promise<string | undefined> {
  const params = request.params as Record<string, string>;
  switch (source) {
    case 'none':
      return undefined;
    case 'query':
      return businessIdIn('query', request.query);
    case 'body':
      return isStream(request.body) ? businessIdIn('query', request.query) : businessIdIn('body', request.body);
    case 'journey': {
      const ids = parseJourneyId(params.journeyId);
      if (!ids) throw new InvalidInputError('params', [{ field: 'journeyId', rule: 'must be a journey id as returned by POST /v1/journeys', value: params.journeyId }]);
      return ids.workflowId.split('.')[1];
    }
    case 'campaign':
      if (!/^cmp_[0-9a-f]{16}$/.test(params.campaignId)) {
        throw new InvalidInputError('params', [{ field: 'campaignId', rule: 'must be a campaign id as returned by POST /v1/campaigns', value: params.campaignId }]);
      }
      return (await findCampaign(deps, params.campaignId)).businessId;
    case 'endpoint':
      if (!/^ep_[0-9a-f]{16}$/.test(params.endpointId)) {
        throw new InvalidInputError('params', [{ field: 'endpointId', rule: 'must be an endpoint id as returned by POST /v1/event-endpoints', value: params.endpointId }]);
      }
      return (await requireEndpoint(deps, params.endpointId)).businessId;
  }
}

/**
 * The scope check of every /v1 route: the key's role first (before the body is read), then its
 * business, once the body is parsed and before the handler, so a refused call reaches neither
 * MongoDB's writes nor Temporal. A key for every business skips the second step.
 */
export function enforceAccess(scope: FastifyInstance, deps: ServiceDeps): void {
  scope.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const rule = ROUTE_ACCESS[ruleKey(method, route.url)];
      if (!rule) throw new Error(`${method} ${route.url} has no access rule: add it to ROUTE_ACCESS in api/access.ts (and docs/keys.md)`);
      route.config = { ...(route.config ?? {}), access: rule };
    }
  });
  scope.addHook('onRequest', async (request) => {
    const rule = request.routeOptions.config.access;
    if (!rule) return;
    const roles: readonly string[] = ALLOWED[rule.allowed];
    if (!roles.includes(request.caller.role)) {
      throw new HttpError(403, 'forbidden_role', `the API key "${request.caller.keyId}" has the role "${request.caller.role}", which may not call ${request.method} ${request.routeOptions.url}; it needs ${roles.join(' or ')}`, [
        { field: 'role', rule: `must be ${roles.join(' or ')}`, value: request.caller.role },
      ]);
    }
  });
  scope.addHook('preHandler', async (request) => {
    const rule = request.routeOptions.config.access;
    if (!rule || request.caller.businesses === '*') return;
    const businessId = await businessOf(deps, request, rule.business);
    if (businessId !== undefined && !mayActFor(request.caller, businessId)) {
      throw new HttpError(403, 'forbidden_business', `the API key "${request.caller.keyId}" may not act for business "${businessId}"; nothing was changed`, [
        { field: 'businessId', rule: `must be one of the key's businesses (${[...request.caller.businesses].join(', ')})`, value: businessId },
      ]);
    }
  });
}

/** The caller as a ledger actor, with the agent and ticket the request named. */
export function keyActor(request: FastifyRequest, named: { agentId?: string; ticketId?: string } = {}): KeyActor {
  return { kind: 'api_key', keyId: request.caller.keyId, ...(named.agentId ? { agentId: named.agentId } : {}), ...(named.ticketId ? { ticketId: named.ticketId } : {}) };
}
