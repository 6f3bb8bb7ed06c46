import { randomBytes } from 'node:crypto';
import type { MetaTemplate } from './meta-types';
import type { QuickReply } from './types';

/**
 * The checks the WhatsApp Cloud API makes on `POST /{phone-number-id}/messages` before it answers with
 * a wamid, and its error shape. Errors found only after accepting (outside the window, undeliverable,
 * marketing stopped) come later, in a `statuses` webhook (dev/carrier/meta.ts).
 */

const errorTitles: Record<number, string> = {
  1: 'An unknown error occurred',
  2: 'Service temporarily unavailable',
  100: 'Invalid parameter',
  190: 'Invalid OAuth access token',
  130429: 'Rate limit hit',
  131008: 'Required parameter is missing',
  131009: 'Parameter value is not valid',
  131026: 'Message undeliverable',
  131047: 'Re-engagement message',
  131050: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
  132000: 'Number of parameters does not match the expected number of params',
  132001: 'Template name does not exist in the translation',
};

export function metaErrorTitle(code: number): string {
  return errorTitles[code] ?? `Error ${code}`;
}

/** A request the Graph API refuses, rendered with its `{ error: { message, type, code, error_data, fbtrace_id } }` body. */
export class GraphApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    readonly details?: string,
  ) {
    super(`(#${code}) ${metaErrorTitle(code)}`);
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {
        message: this.message,
        type: 'OAuthException',
        code: this.code,
        error_data: { messaging_product: 'whatsapp', details: this.details ?? metaErrorTitle(this.code) },
        fbtrace_id: randomBytes(8).toString('base64url'),
      },
    };
  }
}

export type MetaSend =
  | { kind: 'text'; to: string; text: string; buttons: QuickReply[]; callbackData?: string }
  | { kind: 'interactive'; to: string; text: string; buttons: QuickReply[]; callbackData?: string }
  | { kind: 'template'; to: string; text: string; buttons: QuickReply[]; callbackData?: string; name: string; language: string; category: MetaTemplate['category'] };

const MAX_TEXT = 4096;
const MAX_INTERACTIVE_BODY = 1024;
const MAX_BUTTONS = 3;
const MAX_BUTTON_TITLE = 20;
const MAX_CALLBACK_DATA = 512;

type Json = Record<string, unknown>;

function obj(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GraphApiError(400, 131008, `${where} is required and must be an object`);
  return value as Json;
}

function str(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new GraphApiError(400, 131008, `${where} is required`);
  return value;
}

function arr(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new GraphApiError(400, 131009, `${where} must be an array`);
  return value;
}

/** The recipient as the API takes it: a phone number in international form, with or without `+`. */
function recipient(raw: unknown): string {
  const digits = str(raw, 'to').replace(/^\+/, '');
  if (!/^[1-9]\d{6,14}$/.test(digits)) throw new GraphApiError(400, 100, `to: ${JSON.stringify(raw)} is not a phone number in international format`);
  return `+${digits}`;
}

function renderTemplate(body: Json, templates: Record<string, MetaTemplate>, to: string, callbackData?: string): MetaSend {
  const template = obj(body.template, 'template');
  const name = str(template.name, 'template.name');
  const language = str(obj(template.language, 'template.language').code, 'template.language.code');
  const approved = templates[name];
  if (!approved || !approved.languages.includes(language)) throw new GraphApiError(404, 132001, `template name (${name}) does not exist in ${language}`);

  const placeholders = new Set([...approved.text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1])).size;
  let bodyParams: string[] = [];
  const payloads = new Map<number, string>();
  for (const [i, raw] of arr(template.components, 'template.components').entries()) {
    const component = obj(raw, `template.components[${i}]`);
    const params = arr(component.parameters, `template.components[${i}].parameters`).map((p, j) => obj(p, `template.components[${i}].parameters[${j}]`));
    if (component.type === 'body') {
      bodyParams = params.map((p, j) => {
        if (p.type !== 'text') throw new GraphApiError(400, 131009, `template.components[${i}].parameters[${j}].type must be text`);
        return str(p.text, `template.components[${i}].parameters[${j}].text`);
      });
    } else if (component.type === 'button') {
      const index = Number(component.index);
      if (component.sub_type !== 'quick_reply') throw new GraphApiError(400, 131009, `template.components[${i}].sub_type must be quick_reply`);
      if (!Number.isInteger(index) || index < 0 || index >= (approved.buttons?.length ?? 0)) throw new GraphApiError(400, 131009, `template.components[${i}].index: the template has no button ${String(component.index)}`);
      payloads.set(index, str(params[0]?.payload, `template.components[${i}].parameters[0].payload`));
    } else {
      throw new GraphApiError(400, 131009, `template.components[${i}].type ${JSON.stringify(component.type)} is not one this template has`);
    }
  }
  if (bodyParams.length !== placeholders) throw new GraphApiError(400, 132000, `body: expected ${placeholders} parameter(s), got ${bodyParams.length}`);
  const text = approved.text.replace(/\{\{(\d+)\}\}/g, (_, n: string) => bodyParams[Number(n) - 1] ?? '');
  const buttons = (approved.buttons ?? []).map((label, index) => ({ text: label, payload: payloads.get(index) ?? label }));
  return { kind: 'template', to, text, buttons, callbackData, name, language, category: approved.category };
}

function renderInteractive(body: Json, to: string, callbackData?: string): MetaSend {
  const interactive = obj(body.interactive, 'interactive');
  if (interactive.type !== 'button') throw new GraphApiError(400, 131009, 'interactive.type: only button is supported here');
  const text = str(obj(interactive.body, 'interactive.body').text, 'interactive.body.text');
  if (text.length > MAX_INTERACTIVE_BODY) throw new GraphApiError(400, 131009, `interactive.body.text is longer than ${MAX_INTERACTIVE_BODY} characters`);
  const raw = arr(obj(interactive.action, 'interactive.action').buttons, 'interactive.action.buttons');
  if (raw.length < 1 || raw.length > MAX_BUTTONS) throw new GraphApiError(400, 131009, `interactive.action.buttons must have 1 to ${MAX_BUTTONS} buttons`);
  const buttons = raw.map((b, i) => {
    const reply = obj(obj(b, `interactive.action.buttons[${i}]`).reply, `interactive.action.buttons[${i}].reply`);
    const title = str(reply.title, `interactive.action.buttons[${i}].reply.title`);
    if (title.length > MAX_BUTTON_TITLE) throw new GraphApiError(400, 131009, `interactive.action.buttons[${i}].reply.title is longer than ${MAX_BUTTON_TITLE} characters`);
    return { payload: str(reply.id, `interactive.action.buttons[${i}].reply.id`), text: title };
  });
  return { kind: 'interactive', to, text, buttons, callbackData };
}

/** Checks a send request as the Cloud API does and says what the contact will see. */
export function parseMetaSend(raw: unknown, templates: Record<string, MetaTemplate>): MetaSend {
  const body = obj(raw, 'body');
  if (body.messaging_product !== 'whatsapp') throw new GraphApiError(400, 100, 'messaging_product must be whatsapp');
  const to = recipient(body.to);
  const callbackData = body.biz_opaque_callback_data === undefined ? undefined : str(body.biz_opaque_callback_data, 'biz_opaque_callback_data');
  if (callbackData && callbackData.length > MAX_CALLBACK_DATA) throw new GraphApiError(400, 131009, `biz_opaque_callback_data is longer than ${MAX_CALLBACK_DATA} characters`);
  switch (body.type ?? 'text') {
    case 'text': {
      const text = str(obj(body.text, 'text').body, 'text.body');
      if (text.length > MAX_TEXT) throw new GraphApiError(400, 131009, `text.body is longer than ${MAX_TEXT} characters`);
      return { kind: 'text', to, text, buttons: [], callbackData };
    }
    case 'template':
      return renderTemplate(body, templates, to, callbackData);
    case 'interactive':
      return renderInteractive(body, to, callbackData);
    default:
      throw new GraphApiError(400, 131009, `type ${JSON.stringify(body.type)} is not supported here (text, template, interactive)`);
  }
}
