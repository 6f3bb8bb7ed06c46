import { z } from 'zod';
import { agentOptinBodySchema } from '../routes/agent';
import { campaignIdParams, cancelBodySchema, csvQuerySchema, jsonCampaignSchema, rowsQuerySchema } from '../routes/campaigns';
import { cancelBody, journeyIdParams } from '../routes/journeys';
import { offlineConsentBodySchema } from '../routes/offline';
import { consentReportQuery, reportLinkQuery } from '../routes/reports';
import { consentQuerySchema, optOutBodySchema, startJourneyBodySchema } from '../schemas';
import { campaignSchema, consentReportSchema, consentsViewSchema, ERRORS, journeyStartedSchema, journeyViewSchema, offlineConsentSchema, optOutAcceptedSchema, reportLinkSchema } from './responses';
import type { RouteDoc } from './types';

const json = (schema: z.ZodType) => [{ type: 'application/json' as const, schema }];
const { 400: bad, 401: unauthorized, 404: notFound, 409: conflict, 429: limited, 503: unavailable } = ERRORS;

/** The /v1 routes: every one needs "Authorization: Bearer <api key>". */
export const V1_ROUTES: RouteDoc[] = [
  {
    method: 'post', path: '/v1/journeys', tag: 'journeys', auth: 'apiKey',
    summary: 'Start an opt-in journey for one contact',
    body: json(startJourneyBodySchema),
    responses: { 202: { description: 'started', schema: journeyStartedSchema }, 200: { description: 'a journey for this business and contact is already running', schema: journeyStartedSchema }, 400: bad, 401: unauthorized, 409: conflict, 429: limited, 503: unavailable },
  },
  {
    method: 'get', path: '/v1/journeys/:journeyId', tag: 'journeys', auth: 'apiKey',
    summary: 'A journey: status, current step, attempts, messages sent and received',
    params: journeyIdParams,
    responses: { 200: { description: 'the journey', schema: journeyViewSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  {
    method: 'post', path: '/v1/journeys/:journeyId/cancel', tag: 'journeys', auth: 'apiKey',
    summary: 'Cancel a running journey',
    params: journeyIdParams, body: json(cancelBody),
    responses: { 200: { description: 'cancelled', schema: journeyViewSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  },
  {
    method: 'get', path: '/v1/consents', tag: 'consents', auth: 'apiKey',
    summary: "A contact's consent per category with every ledger event and its proof",
    query: consentQuerySchema,
    responses: { 200: { description: 'the consents', schema: consentsViewSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  {
    method: 'post', path: '/v1/optouts', tag: 'consents', auth: 'apiKey',
    summary: 'Opt a contact out (agents and other systems); requestId makes retries no-ops',
    body: json(optOutBodySchema),
    responses: { 202: { description: 'accepted', schema: optOutAcceptedSchema }, 200: { description: 'the same request was already accepted', schema: optOutAcceptedSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  },
  {
    method: 'post', path: '/v1/consents/offline', tag: 'consents', auth: 'apiKey',
    summary: 'Record consent collected on paper or in person, then confirm on WhatsApp',
    body: json(offlineConsentBodySchema),
    responses: { 202: { description: 'recorded', schema: offlineConsentSchema }, 200: { description: 'already recorded', schema: offlineConsentSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  },
  {
    method: 'post', path: '/v1/campaigns', tag: 'campaigns', auth: 'apiKey',
    summary: 'Start a campaign of up to 100,000 contacts (JSON, or text/csv with the rest in the query)',
    description: 'With `content-type: text/csv` the body is a CSV with columns phone,email,locale,timezone,name and businessId, name, categories and plan come in the query.',
    query: csvQuerySchema.optional(),
    body: [...json(jsonCampaignSchema), { type: 'text/csv' }],
    responses: { 202: { description: 'created; every row accepted or skipped with its reason', schema: campaignSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  {
    method: 'get', path: '/v1/campaigns/:campaignId', tag: 'campaigns', auth: 'apiKey',
    summary: 'Counts per outcome, opt-in rate, pace',
    params: campaignIdParams,
    responses: { 200: { description: 'the campaign', schema: campaignSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  {
    method: 'get', path: '/v1/campaigns/:campaignId/rows', tag: 'campaigns', auth: 'apiKey',
    summary: 'Per-row outcomes of a campaign, paged',
    params: campaignIdParams, query: rowsQuerySchema,
    responses: { 200: { description: 'rows', schema: campaignSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  ...(['pause', 'resume'] as const).map((action): RouteDoc => ({
    method: 'post', path: `/v1/campaigns/:campaignId/${action}`, tag: 'campaigns', auth: 'apiKey',
    summary: `${action === 'pause' ? 'Pause' : 'Resume'} a campaign`,
    params: campaignIdParams,
    responses: { 200: { description: 'done', schema: campaignSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  })),
  {
    method: 'post', path: '/v1/campaigns/:campaignId/cancel', tag: 'campaigns', auth: 'apiKey',
    summary: 'Cancel a campaign; its running journeys finish or are cancelled',
    params: campaignIdParams, body: json(cancelBodySchema),
    responses: { 202: { description: 'cancelling', schema: campaignSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  },
  {
    method: 'post', path: '/v1/agent/optin', tag: 'journeys', auth: 'apiKey',
    summary: 'Ask in the WhatsApp chat after a support ticket (inside the 24-hour window only)',
    body: json(agentOptinBodySchema),
    responses: { 202: { description: 'asked', schema: journeyStartedSchema }, 200: { description: 'already asking', schema: journeyStartedSchema }, 400: bad, 401: unauthorized, 404: notFound, 409: conflict },
  },
  {
    method: 'get', path: '/v1/reports/consent', tag: 'reports', auth: 'apiKey',
    summary: 'The consent report: journeys by outcome, opt-outs by source, time to honour, answers, series',
    query: consentReportQuery,
    responses: { 200: { description: 'the report', schema: consentReportSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
  {
    method: 'get', path: '/v1/reports/link', tag: 'reports', auth: 'apiKey',
    summary: 'Mint a short-lived signed link to the report page of a business',
    query: reportLinkQuery,
    responses: { 200: { description: 'the link', schema: reportLinkSchema }, 400: bad, 401: unauthorized, 404: notFound },
  },
];
