import type { Business } from '../domain/business';

/**
 * What a service refuses, by kind; the API maps each kind to one HTTP status (api/errors.ts), pages and
 * webhooks to their own answers. Callers branch on the class, never on a status code or a message.
 */
export type ServiceErrorKind = 'invalid' | 'not_found' | 'conflict' | 'rate_limited' | 'unavailable';

export interface FieldIssue {
  field: string;
  rule: string;
  value?: unknown;
}

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** For rate_limited and unavailable: when asking again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** How much of what was sent a 400 echoes: enough to recognise it, never the megabytes someone posted. */
const ECHO_CHARS = 100;
const RULE_CHARS = 300;
const MAX_ISSUES = 20;

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max)}\u2026 (${s.length} characters)`);

/** Input that does not parse, or breaks a rule only a service knows (an unknown business or category). */
export class InvalidInputError extends ServiceError {
  constructor(where: string, issues: FieldIssue[]) {
    const shown = issues.slice(0, MAX_ISSUES).map((i) => ({ ...i, field: cut(i.field, ECHO_CHARS), rule: cut(i.rule, RULE_CHARS), ...(typeof i.value === 'string' ? { value: cut(i.value, ECHO_CHARS) } : {}) }));
    const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
    super('invalid', 'invalid_request', `${where} is invalid: ${shown.map((i) => `${i.field}: ${i.rule}`).join('; ')}${more}`, shown);
  }
}

export class NotFoundError extends ServiceError {
  constructor(what: string) {
    super('not_found', 'not_found', `${what} not found`);
  }
}

/** The contact opted out: only their own act (START, the web form, an in-chat request) opts them back in. */
export class ContactOptedOutError extends ServiceError {
  constructor() {
    super('conflict', 'contact_opted_out', 'the contact opted out; only their own act (START, the web form, an in-chat request) can opt them back in');
  }
}

/** The journey or campaign has ended, or cannot do that now. */
export class EndedError extends ServiceError {
  constructor(code: string, message: string) {
    super('conflict', code, message);
  }
}

/** A caller's request id already stands for another request: a repeat must send the same request. */
export class RequestIdReusedError extends ServiceError {
  constructor(requestId: string, businessId: string, differing: string[]) {
    const rule = `was already used by this caller for business "${businessId}" with a different ${differing.join(', ')}; send the same request to repeat it, or use a new requestId`;
    super('conflict', 'request_id_reused', `requestId "${requestId}" ${rule}`, [{ field: 'requestId', rule, value: requestId }]);
  }
}

/** Temporal (or a workflow's worker) did not answer in time; nothing was changed. */
export class UnavailableError extends ServiceError {
  constructor(message: string, retryAfterSeconds = 5) {
    super('unavailable', 'unavailable', message, undefined, retryAfterSeconds);
  }
}

/** The business's WhatsApp tier is used up: nothing was started. */
export class WhatsappTierUsedUpError extends ServiceError {
  constructor(business: Business, used: number, nextFreeAt: number) {
    const limit = business.sending.whatsappTier;
    const retryAfterSeconds = Math.max(1, Math.ceil((nextFreeAt - Date.now()) / 1000));
    const at = new Date(nextFreeAt).toISOString();
    super(
      'rate_limited',
      'whatsapp_tier_used_up',
      `business "${business.id}" has used up its WhatsApp tier (${limit} new contacts per rolling 24 hours; ${used} taken): budget frees up at ${at} (in ${retryAfterSeconds} s). Nothing was started; try again then, or ask by SMS or e-mail first`,
      { whatsappTier: limit, used, nextFreeAt: at, retryAfterSeconds },
      retryAfterSeconds,
    );
  }
}
