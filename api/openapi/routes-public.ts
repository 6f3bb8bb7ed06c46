import { z } from 'zod';
import { confirmForm } from '../routes/pages';
import { preferencesForm } from '../routes/preferences';
import { reportPageQuery } from '../routes/report-page';
import { inboundCallSchema, menuParamsSchema } from '../routes/voice-inbound';
import { businessParams, optinForm } from '../routes/webform';
import { inboundMessageSchema, statusCallbackQuerySchema, statusCallbackSchema, voiceParamsSchema } from '../schemas';
import { metaEnvelopeSchema, metaVerifyQuerySchema } from '../meta-schemas';
import { ERRORS } from './responses';
import type { ResponseDoc, RouteDoc } from './types';

const form = (schema?: z.ZodType) => [{ type: 'application/x-www-form-urlencoded' as const, ...(schema ? { schema } : {}) }];
const twimlAnswer: ResponseDoc = { description: 'TwiML for the call or message', type: 'text/xml' };
const html = (description: string): ResponseDoc => ({ description, type: 'text/html' });
const { 400: bad, 403: badSignature, 503: unavailable } = ERRORS;
const tokenParams = z.object({ token: z.string().min(1).meta({ description: 'the signed token of the link' }) });
const ivrCallback = (path: string, summary: string): RouteDoc => ({
  method: 'post', path, tag: 'webhooks', auth: 'twilioSignature', summary,
  query: voiceParamsSchema, body: form(),
  responses: { 200: twimlAnswer, 204: { description: 'acknowledged' }, 400: bad, 403: badSignature, 503: unavailable },
});

/** Twilio's webhooks (signed with X-Twilio-Signature against PUBLIC_BASE_URL), and Meta's (X-Hub-Signature-256 with the app secret). */
export const WEBHOOK_ROUTES: RouteDoc[] = [
  {
    method: 'get', path: '/webhooks/meta', tag: 'webhooks', auth: 'public',
    summary: "Meta's webhook verification: answers hub.challenge when hub.verify_token is META_VERIFY_TOKEN",
    query: metaVerifyQuerySchema,
    responses: { 200: { description: 'the challenge, as text', type: 'text/plain' }, 400: bad, 403: { description: 'wrong verify token', schema: ERRORS[403].schema } },
  },
  {
    method: 'post', path: '/webhooks/meta', tag: 'webhooks', auth: 'public',
    summary: "Meta's WhatsApp webhooks (messages, statuses, user_preferences, quality and account updates), signed with X-Hub-Signature-256 over the raw body",
    body: [{ type: 'application/json', schema: metaEnvelopeSchema }],
    responses: { 200: { description: 'acknowledged once every event is durable' }, 400: bad, 403: { description: 'missing or wrong X-Hub-Signature-256', schema: ERRORS[403].schema }, 503: unavailable },
  },
  {
    method: 'post', path: '/webhooks/twilio/messaging', tag: 'webhooks', auth: 'twilioSignature',
    summary: 'Inbound SMS and WhatsApp messages: replies, STOP in any wording, START, HELP, button taps',
    body: form(inboundMessageSchema),
    responses: { 200: { description: 'an empty TwiML answer, once the event is durable', type: 'text/xml' }, 400: bad, 403: badSignature, 404: { description: 'To is no business sender number', schema: ERRORS[404].schema }, 503: unavailable },
  },
  {
    method: 'post', path: '/webhooks/twilio/status', tag: 'webhooks', auth: 'twilioSignature',
    summary: 'Message status callbacks; final ones reach the journey',
    query: statusCallbackQuerySchema, body: form(statusCallbackSchema),
    responses: { 204: { description: 'acknowledged' }, 400: bad, 403: badSignature, 503: unavailable },
  },
  ivrCallback('/webhooks/twilio/voice/optin', 'The opt-in call: TwiML asking for a key press'),
  ivrCallback('/webhooks/twilio/voice/gather', 'The key the contact pressed on the opt-in call'),
  ivrCallback('/webhooks/twilio/voice/no-answer', 'The opt-in call got no key press'),
  ivrCallback('/webhooks/twilio/voice/status', 'Status of the opt-in call'),
  {
    method: 'post', path: '/webhooks/twilio/voice/inbound', tag: 'webhooks', auth: 'twilioSignature',
    summary: "A call to the business's voice number: the IVR menu (press 1 to opt in)",
    body: form(inboundCallSchema),
    responses: { 200: twimlAnswer, 400: bad, 403: badSignature },
  },
  {
    method: 'post', path: '/webhooks/twilio/voice/inbound/menu', tag: 'webhooks', auth: 'twilioSignature',
    summary: 'The inbound IVR menu, again',
    query: menuParamsSchema, body: form(),
    responses: { 200: twimlAnswer, 400: bad, 403: badSignature },
  },
  {
    method: 'post', path: '/webhooks/twilio/voice/inbound/gather', tag: 'webhooks', auth: 'twilioSignature',
    summary: 'The key pressed in the inbound IVR menu (1 records consent)',
    query: menuParamsSchema, body: form(inboundCallSchema),
    responses: { 200: twimlAnswer, 400: bad, 403: badSignature, 503: unavailable },
  },
  {
    method: 'post', path: '/webhooks/twilio/voice/inbound-status', tag: 'webhooks', auth: 'twilioSignature',
    summary: 'Status of an inbound call: a missed call starts an opt-in journey for the caller',
    body: form(inboundCallSchema),
    responses: { 200: { description: 'what was done (outcome, reason)', schema: z.looseObject({ outcome: z.string() }) }, 400: bad, 403: badSignature, 503: unavailable },
  },
];

/** Hosted HTML pages (no JavaScript) and the operational endpoints. */
export const PAGE_ROUTES: RouteDoc[] = [
  { method: 'get', path: '/c/:token', tag: 'pages', auth: 'pageToken', summary: 'E-mail confirmation page', params: tokenParams, responses: { 200: html('the page'), 400: html('link not valid'), 403: html('link not valid'), 410: html('link expired') } },
  { method: 'post', path: '/c/:token', tag: 'pages', auth: 'pageToken', summary: 'Confirm or decline from the confirmation page', params: tokenParams, body: form(confirmForm), responses: { 200: html('thank you'), 409: html('already answered'), 410: html('ended') } },
  { method: 'get', path: '/u/:token', tag: 'pages', auth: 'pageToken', summary: 'Unsubscribe page', params: tokenParams, responses: { 200: html('the page'), 410: html('link expired') } },
  { method: 'post', path: '/u/:token', tag: 'pages', auth: 'pageToken', summary: 'Unsubscribe from everything (also RFC 8058 one-click)', params: tokenParams, body: form(), responses: { 200: html('unsubscribed') } },
  { method: 'get', path: '/p/:token', tag: 'pages', auth: 'pageToken', summary: 'Preferences page: one switch per category', params: tokenParams, responses: { 200: html('the page'), 410: html('link expired') } },
  { method: 'post', path: '/p/:token', tag: 'pages', auth: 'pageToken', summary: 'Save preferences or unsubscribe from all', params: tokenParams, body: form(preferencesForm), responses: { 200: html('saved'), 400: html('form not valid') } },
  { method: 'get', path: '/b/:businessId/optin', tag: 'pages', auth: 'public', summary: "The business's website sign-up form", params: businessParams, responses: { 200: html('the form'), 404: html('no such business') } },
  { method: 'post', path: '/b/:businessId/optin', tag: 'pages', auth: 'public', summary: 'Sign up (honeypot, per-IP and per-phone limits)', params: businessParams, body: form(optinForm), responses: { 200: html('check your phone'), 400: html('form not valid'), 429: html('too many sign-ups') } },
  {
    method: 'get', path: '/reports/:businessId', tag: 'reports', auth: 'apiKeyOrReportLink',
    summary: 'The consent report page: funnel, opt-in rate by channel and method, opt-outs per day, time to honour (server-rendered SVG charts)',
    params: businessParams, query: reportPageQuery,
    responses: { 200: html('the report page'), 400: html('bad query'), 401: html('no API key and no valid signed link'), 404: html('no such business') },
  },
  { method: 'get', path: '/healthz', tag: 'operations', auth: 'public', summary: 'Health of Temporal, MongoDB, the worker and the sweeps', responses: { 200: { description: 'healthy', schema: z.looseObject({ status: z.string() }) }, 503: { description: 'degraded', schema: z.looseObject({ status: z.string() }) } } },
  { method: 'get', path: '/metrics', tag: 'operations', auth: 'public', summary: 'Prometheus metrics of the API', responses: { 200: { description: 'Prometheus text exposition', type: 'text/plain' } } },
];
