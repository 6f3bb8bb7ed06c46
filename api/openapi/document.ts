import { z } from 'zod';
import { errorSchema } from './responses';
import { PAGE_ROUTES, WEBHOOK_ROUTES } from './routes-public';
import { COMPLIANCE_ROUTES } from './routes-compliance';
import { V1_ROUTES } from './routes-v1';
import type { RouteAuth, RouteDoc } from './types';

/** Every route the document describes; a new route gets its entry here (test/integration/openapi.test.ts fails naming a missing one). */
export const ROUTE_DOCS: RouteDoc[] = [...V1_ROUTES, ...COMPLIANCE_ROUTES, ...WEBHOOK_ROUTES, ...PAGE_ROUTES];

type JsonSchema = Record<string, unknown>;

/**
 * What a caller sends (io: input): a field with a default is optional, a transform shows what it
 * reads. Refinements JSON Schema cannot say (a phone number's validity, a duration's range) are left
 * to the route's own 400, which names them.
 */
export function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

function outputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Fastify's /a/:b is OpenAPI's /a/{b}. */
export const openApiPath = (fastifyPath: string) => fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const js = inputSchema(schema);
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s, ...(typeof s.description === 'string' ? { description: s.description } : {}) }));
}

const SECURITY: Record<RouteAuth, Record<string, string[]>[]> = {
  apiKey: [{ apiKey: [] }],
  apiKeyOrReportLink: [{ apiKey: [] }, { reportLink: [] }],
  twilioSignature: [{ twilioSignature: [] }],
  pageToken: [],
  public: [],
};

function operation(r: RouteDoc) {
  const responses = Object.fromEntries(
    Object.entries(r.responses).map(([status, res]) => [status, { description: res.description, ...(res.schema || res.type ? { content: { [res.type ?? 'application/json']: res.schema ? { schema: res.schema === errorSchema ? { $ref: '#/components/schemas/Error' } : outputSchema(res.schema) } : {} } } : {}) }]),
  );
  return {
    operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [r.tag],
    security: SECURITY[r.auth],
    parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
    ...(r.body ? { requestBody: { required: r.body.some((b) => b.schema !== undefined && !b.schema.safeParse(undefined).success), content: Object.fromEntries(r.body.map((b) => [b.type, b.schema ? { schema: inputSchema(b.schema) } : {}])) } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the whole API, built once from the route table. */
export function buildOpenApiDocument(opts: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTE_DOCS) (paths[openApiPath(r.path)] ??= {})[r.method] = operation(r);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Optinflow API',
      version: opts.version,
      summary: 'Collects, proves and honours WhatsApp messaging consent',
      description: 'Every body and query crosses a zod schema; a 400 names the field, the value and the rule. This document is generated from the same schemas.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: opts.serverUrl }],
    tags: [
      { name: 'journeys', description: 'opt-in journeys for one contact' },
      { name: 'consents', description: 'consent state, opt-outs, offline consent' },
      { name: 'campaigns', description: 'many contacts at once' },
      { name: 'reports', description: 'the consent report and its page' },
      { name: 'webhooks', description: "Twilio's callbacks" },
      { name: 'pages', description: 'hosted pages for contacts' },
      { name: 'operations', description: 'health and metrics' },
    ],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'one of API_KEYS' },
        twilioSignature: { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature', description: 'HMAC-SHA1 of PUBLIC_BASE_URL + path + sorted form fields with TWILIO_AUTH_TOKEN' },
        reportLink: { type: 'apiKey', in: 'query', name: 'token', description: 'a signed, short-lived token from GET /v1/reports/link' },
      },
      schemas: { Error: outputSchema(errorSchema) },
    },
    paths,
  };
}
export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
