import { z } from 'zod';
import { exportQuery, eraseBodySchema } from '../routes/contacts';
import { deliveriesQuery, endpointParams, listQuery, newEndpointBody, replayBody } from '../routes/event-endpoints';
import { consentExportQuery } from '../routes/exports';
import { csvImportQuerySchema, jsonImportSchema } from '../routes/import';
import { businessOnly } from '../routes/ledger';
import { ERRORS, error } from './responses';
import type { RouteDoc } from './types';

const json = (schema: z.ZodType) => [{ type: 'application/json' as const, schema }];
const { 400: bad, 401: unauthorized, 404: notFound, 409: conflict, 503: unavailable } = ERRORS;
const forbidden = error('the key may not act for this business, or its role may not call this route (api/access.ts)');
// Answers are described loosely here; docs/compliance.md, docs/events.md and docs/keys.md give their fields.
const answer = (description: string) => ({ description, schema: z.object({}).passthrough() });

/** Keys, bulk import, the ledger, a person's data, exports and consent-change endpoints. */
export const COMPLIANCE_ROUTES: RouteDoc[] = [
  {
    method: 'get', path: '/v1/keys/me', tag: 'keys', auth: 'apiKey',
    summary: "The calling key's id, role and businesses",
    responses: { 200: answer('the key'), 401: unauthorized },
  },
  {
    method: 'post', path: '/v1/consents/import', tag: 'consents', auth: 'apiKey',
    summary: 'Import consents collected elsewhere, with evidence per row (JSON, or text/csv with businessId and importId in the query)',
    query: csvImportQuerySchema.optional(),
    body: [...json(jsonImportSchema), { type: 'text/csv' }],
    responses: { 200: answer('the import was already done: its stored report'), 201: answer('per-row report: accepted, skipped, invalid'), 400: bad, 401: unauthorized, 403: forbidden, 409: conflict },
  },
  {
    method: 'get', path: '/v1/ledger/verify', tag: 'ledger', auth: 'apiKey',
    summary: "Walk every contact's hash chain and name the first broken link of each broken chain",
    query: businessOnly,
    responses: { 200: answer('chains and events checked, broken links'), 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'post', path: '/v1/ledger/seal', tag: 'ledger', auth: 'apiKey',
    summary: 'Link events written before the ledger was chained',
    body: json(businessOnly),
    responses: { 200: answer('events sealed'), 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'get', path: '/v1/contacts/export', tag: 'contacts', auth: 'apiKey',
    summary: 'Everything held about one person (subject-access request)',
    query: exportQuery,
    responses: { 200: answer('the person\'s data'), 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'post', path: '/v1/contacts/erase', tag: 'contacts', auth: 'apiKey',
    summary: 'Erase a person everywhere, keeping the number suppressed and the ledger verifiable',
    body: json(eraseBodySchema),
    responses: { 200: answer('erased'), 400: bad, 401: unauthorized, 403: forbidden, 409: conflict, 503: unavailable },
  },
  {
    method: 'get', path: '/v1/consents/export', tag: 'consents', auth: 'apiKey',
    summary: "Stream a category's opted-in segment or the opt-out list as NDJSON or CSV, ending with a completeness trailer",
    query: consentExportQuery,
    responses: { 200: { description: 'the rows, then the trailer', type: 'text/csv' }, 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'post', path: '/v1/event-endpoints', tag: 'events', auth: 'apiKey',
    summary: 'Register an endpoint that receives every consent change as a signed event',
    body: json(newEndpointBody),
    responses: { 201: answer('the endpoint (and its secret, once, when generated)'), 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'get', path: '/v1/event-endpoints', tag: 'events', auth: 'apiKey',
    summary: "A business's endpoints",
    query: listQuery,
    responses: { 200: answer('the endpoints'), 400: bad, 401: unauthorized, 403: forbidden },
  },
  {
    method: 'delete', path: '/v1/event-endpoints/:endpointId', tag: 'events', auth: 'apiKey',
    summary: 'Delete an endpoint; its deliveries stop',
    params: endpointParams,
    responses: { 200: answer('deleted'), 400: bad, 401: unauthorized, 403: forbidden, 404: notFound },
  },
  {
    method: 'get', path: '/v1/event-endpoints/:endpointId/deliveries', tag: 'events', auth: 'apiKey',
    summary: "An endpoint's delivery log",
    params: endpointParams, query: deliveriesQuery,
    responses: { 200: answer('deliveries'), 400: bad, 401: unauthorized, 403: forbidden, 404: notFound },
  },
  {
    method: 'post', path: '/v1/event-endpoints/:endpointId/replay', tag: 'events', auth: 'apiKey',
    summary: 'Deliver again every consent change since a time',
    params: endpointParams, body: json(replayBody),
    responses: { 202: answer('replay scheduled'), 400: bad, 401: unauthorized, 403: forbidden, 404: notFound },
  },
];
