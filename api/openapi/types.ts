import type { z } from 'zod';

/** Who may call a route, as the document's security requirement says it. */
export type RouteAuth = 'apiKey' | 'apiKeyOrReportLink' | 'twilioSignature' | 'pageToken' | 'public';

export type MediaType = 'application/json' | 'application/x-www-form-urlencoded' | 'text/csv' | 'text/html' | 'text/xml' | 'text/plain' | 'image/svg+xml';

export interface ResponseDoc {
  description: string;
  /** Defaults to application/json. */
  type?: MediaType;
  schema?: z.ZodType;
}

/**
 * One route of the API as the OpenAPI document describes it. The schemas are the same zod schemas
 * the route parses with, so the document cannot drift from what the route accepts.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** Fastify's form: /v1/journeys/:journeyId */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: { type: MediaType; schema?: z.ZodType }[];
  responses: Record<number, ResponseDoc>;
}
