import type { FastifyInstance, FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Business } from '../../domain/business';
import { escapeHtml } from '../../domain/escape';
import { normalizePhone } from '../../domain/phone';
import { askFromWebform } from '../../services/optin-requests';
import type { ApiDeps } from '../app';
import { FORM_LIMITS, formRoute } from '../form-body';
import { pageErrorHandler, sendPage, sendProblemPage } from '../html';
import { SlidingWindowLimiter } from '../rate-limit';

export interface WebformLimits {
  perIp: { limit: number; windowMs: number };
  perPhone: { limit: number; windowMs: number };
}

export const DEFAULT_WEBFORM_LIMITS: WebformLimits = {
  perIp: { limit: 5, windowMs: 10 * 60_000 },
  perPhone: { limit: 3, windowMs: 60 * 60_000 },
};

/** Hidden from people by CSS and from keyboards by tabindex; form-filling bots fill it in. */
export const HONEYPOT_FIELD = 'website';

export const businessParams = z.object({ businessId: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/) });
export const optinForm = z.object({
  phone: z.string().max(64).default(''),
  categories: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  confirmBy: z.enum(['whatsapp', 'sms']).default('whatsapp'),
  [HONEYPOT_FIELD]: z.string().optional(),
});

/** The words of the form, rendered on the page and stored as proof of what the person was shown. */
export function webformWords(business: Business) {
  return {
    heading: `Get messages from ${business.name} on WhatsApp`,
    intro: `${business.name} can send you messages on WhatsApp. Enter your mobile number and tick what you would like to receive. We will then send you a message to confirm; nothing else is sent until you confirm there.`,
    phoneLabel: 'Mobile number, with country code (for example +14155550100)',
    legend: 'What would you like to receive on WhatsApp?',
    confirmLegend: 'Where should we send the message to confirm?',
    submit: 'Send me the confirmation message',
    footer: `You can opt out at any time by replying STOP. ${business.name} keeps a record of this form (your number, your choices, the time, your IP address and browser) as proof of your consent.`,
  };
}

export function webformText(business: Business): string {
  const w = webformWords(business);
  return [w.heading, w.intro, w.phoneLabel, w.legend, ...business.categories.map((c) => `[ ] ${c.label}`), w.confirmLegend, '(o) WhatsApp ( ) SMS text message', `[${w.submit}]`, w.footer].join('\n');
}

interface FormValues {
  phone: string;
  categories: ReadonlySet<string>;
  confirmBy: 'whatsapp' | 'sms';
}

function formHtml(business: Business, values: FormValues, error?: string): string {
  const w = webformWords(business);
  const boxes = business.categories
    .map((c) => `<label><input type="checkbox" name="categories" value="${escapeHtml(c.id)}"${values.categories.has(c.id) ? ' checked' : ''}> ${escapeHtml(c.label)}</label>`)
    .join('\n');
  const radio = (value: string, label: string) => `<label><input type="radio" name="confirmBy" value="${value}"${values.confirmBy === value ? ' checked' : ''}> ${label}</label>`;
  return `<h1>${escapeHtml(w.heading)}</h1>
${error ? `<p class="error" role="alert" id="form-error">${escapeHtml(error)}</p>` : ''}
<p>${escapeHtml(w.intro)}</p>
<form method="post" action="/b/${escapeHtml(business.id)}/optin">
<label for="phone">${escapeHtml(w.phoneLabel)}</label>
<input type="tel" id="phone" name="phone" autocomplete="tel" inputmode="tel" required value="${escapeHtml(values.phone)}"${error ? ' aria-describedby="form-error"' : ''}>
<fieldset><legend>${escapeHtml(w.legend)}</legend>
${boxes}
</fieldset>
<fieldset><legend>${escapeHtml(w.confirmLegend)}</legend>
${radio('whatsapp', 'WhatsApp')}
${radio('sms', 'SMS text message')}
</fieldset>
<div class="hp" aria-hidden="true"><label>Leave this field empty <input type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off"></label></div>
<button class="primary" type="submit">${escapeHtml(w.submit)}</button>
</form>
<p class="muted">${escapeHtml(w.footer)}</p>`;
}

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

export function registerWebformRoutes(app: FastifyInstance, deps: ApiDeps, limits: WebformLimits = DEFAULT_WEBFORM_LIMITS): void {
  const perIp = new SlidingWindowLimiter(limits.perIp.limit, limits.perIp.windowMs);
  const perPhone = new SlidingWindowLimiter(limits.perPhone.limit, limits.perPhone.windowMs);
  const pageRoute = { errorHandler: pageErrorHandler };

  function businessOf(rawParams: unknown, reply: FastifyReply): Business | undefined {
    const params = businessParams.safeParse(rawParams);
    const business = params.success ? deps.businesses.get(params.data.businessId) : undefined;
    if (!business) sendProblemPage(reply, 404, 'No such sign-up form', 'There is no sign-up form at this address. Check the link you followed.');
    return business;
  }

  function tooMany(reply: FastifyReply, waitMs: number) {
    reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
    return sendProblemPage(reply, 429, 'Too many sign-ups', `Too many sign-ups came from here or for this number. Please try again in ${minutes(waitMs)}.`);
  }

  app.get('/b/:businessId/optin', pageRoute, async (request, reply) => {
    const business = businessOf(request.params, reply);
    if (!business) return reply;
    return sendPage(reply, 200, webformWords(business).heading, formHtml(business, { phone: '', categories: new Set(), confirmBy: 'whatsapp' }));
  });

  app.post('/b/:businessId/optin', { ...pageRoute, ...formRoute(FORM_LIMITS.page) }, async (request, reply) => {
    const business = businessOf(request.params, reply);
    if (!business) return reply;
    const parsed = optinForm.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendProblemPage(reply, 400, 'The form was incomplete', `${issue.path.join('.') || 'form'}: ${issue.message}. Go back and send the form again.`);
    }
    const form = parsed.data;
    if (form[HONEYPOT_FIELD]) {
      return sendProblemPage(reply, 400, 'Your sign-up was not accepted', `The hidden field "${HONEYPOT_FIELD}" must be left empty; forms filled in by programs are refused. Nothing was sent.`);
    }
    const known = business.categories.map((c) => c.id);
    const categories = known.filter((c) => form.categories.includes(c));
    const values: FormValues = { phone: form.phone, categories: new Set(categories), confirmBy: form.confirmBy };
    const phone = normalizePhone(form.phone);
    if (!phone.ok) return sendPage(reply, 400, webformWords(business).heading, formHtml(business, values, `Mobile number ${phone.rule}.`));
    if (categories.length === 0) return sendPage(reply, 400, webformWords(business).heading, formHtml(business, values, 'Tick at least one kind of message you would like to receive.'));

    const ipKey = request.ip;
    const phoneKey = `${business.id}:${phone.e164}`;
    const waitMs = Math.max(perIp.waitFor(ipKey), perPhone.waitFor(phoneKey));
    if (waitMs > 0) return tooMany(reply, waitMs);
    perIp.record(ipKey);
    perPhone.record(phoneKey);

    const { askedBy } = await askFromWebform(deps, {
      businessId: business.id,
      phone: phone.e164,
      categories,
      confirmBy: form.confirmBy,
      reference: `webform.${randomUUID()}`,
      evidence: { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? ''), shownText: webformText(business), submittedAt: new Date().toISOString(), form: { phone: form.phone, categories, confirmBy: form.confirmBy } },
    });
    const where = askedBy === 'sms' ? 'an SMS text message' : 'a WhatsApp message';
    return sendPage(
      reply,
      200,
      'Check your phone',
      `<h1>Check your phone</h1><p>If ${escapeHtml(phone.e164)} can receive it, ${where} from ${escapeHtml(business.name)} is on its way. Answer Yes there to confirm; until then you will receive nothing else.</p>
<p class="muted">Nothing arrived? If you unsubscribed from ${escapeHtml(business.name)} earlier, reply START to ${escapeHtml(business.name)} on WhatsApp first.</p>`,
    );
  });
}
