import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { categoryLabels, type Business } from '../../domain/business';
import { escapeHtml } from '../../domain/escape';
import { pageLinks } from '../../lib/page-links';
import { UnavailableError } from '../../services/errors';
import { journeyAwaitsAnswer, submitJourneyForm } from '../../services/journeys';
import { optedBackInSince, requestOptOut } from '../../services/optouts';
import { parseJourneyId } from '../../workflows/journey/contract';
import type { OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { FORM_LIMITS, formRoute } from '../form-body';
import { checkPageToken, pageErrorHandler, sendPage, sendProblemPage } from '../html';

export const confirmForm = z.object({
  decision: z.enum(['confirm', 'decline']),
  categories: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

const ENDED = { title: 'This request has ended', text: 'You already answered, or the request expired. Nothing was changed.' };

/** The words of the confirmation page; the page renders them and the proof stores them, so both agree. */
export function confirmPageWords(business: Business, categories: string[]) {
  return {
    heading: `${business.name} on WhatsApp`,
    intro: `${business.name} would like to send you messages on WhatsApp. Choose what you agree to receive:`,
    labels: categoryLabels(business, categories),
    footer: 'Nothing changes until you press a button. You can opt out at any time by replying STOP on WhatsApp.',
  };
}

/** The page as plain text, stored as proof of what the person was shown. */
export function confirmPageText(business: Business, categories: string[]): string {
  const w = confirmPageWords(business, categories);
  return [w.heading, w.intro, ...w.labels.map((l) => `[x] ${l}`), '[Confirm] [Decline]', w.footer].join('\n');
}

function confirmFormHtml(token: string, business: Business, categories: string[], ticked: ReadonlySet<string>, error?: string): string {
  const w = confirmPageWords(business, categories);
  const boxes = categories
    .map((c, i) => `<label><input type="checkbox" name="categories" value="${escapeHtml(c)}"${ticked.has(c) ? ' checked' : ''}> ${escapeHtml(w.labels[i])}</label>`)
    .join('\n');
  return `<h1>${escapeHtml(w.heading)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<p>${escapeHtml(w.intro)}</p>
<form method="post" action="/c/${escapeHtml(token)}">
<fieldset><legend>Messages from ${escapeHtml(business.name)}</legend>
${boxes}
</fieldset>
<button class="primary" type="submit" name="decision" value="confirm">Confirm</button>
<button type="submit" name="decision" value="decline">Decline</button>
</form>
<p class="muted">${escapeHtml(w.footer)}</p>`;
}

const pageRoute = { errorHandler: pageErrorHandler };
const pageForm = { ...pageRoute, ...formRoute(FORM_LIMITS.page) };
/** An unsubscribe is never refused for its size (RFC 8058 clients post one field; anything can arrive). */
const unsubscribeForm = { ...pageRoute, ...formRoute(FORM_LIMITS.optOutCarrier) };

/** The journey a confirmation link names, if it names one well-formed. */
const journeyOfLink = (j: string | undefined) => (j && parseJourneyId(j) ? j : undefined);

export function registerPageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** Showing the page changes nothing: mail scanners open links, only the form POST decides. */
  app.get('/c/:token', pageRoute, async (request, reply) => {
    const t = checkPageToken(deps, reply, request.params, 'confirm');
    if (!t) return reply;
    const journeyId = journeyOfLink(t.payload.j);
    if (!journeyId) return sendProblemPage(reply, 400, 'This link is not valid', 'Nothing was changed.');
    if (!(await journeyAwaitsAnswer(deps, journeyId))) return sendProblemPage(reply, 410, ENDED.title, ENDED.text);
    const categories = t.payload.cats ?? [];
    return sendPage(reply, 200, `${t.business.name} on WhatsApp`, confirmFormHtml(t.token, t.business, categories, new Set(categories)));
  });

  app.post('/c/:token', pageForm, async (request, reply) => {
    const t = checkPageToken(deps, reply, request.params, 'confirm');
    if (!t) return reply;
    const form = confirmForm.safeParse(request.body ?? {});
    if (!form.success) return sendProblemPage(reply, 400, 'Please choose Confirm or Decline', 'The form arrived without Confirm or Decline. Go back and press one of the two buttons. Nothing was changed.');
    const requested = t.payload.cats ?? [];
    const kept = form.data.categories.filter((c) => requested.includes(c));
    if (form.data.decision === 'confirm' && kept.length === 0) {
      // Confirming nothing is most likely a slip: ask again rather than record a decline they did not press.
      return sendPage(reply, 400, `${t.business.name} on WhatsApp`, confirmFormHtml(t.token, t.business, requested, new Set(), 'Tick at least one kind of message to confirm, or press Decline.'));
    }
    const journeyId = journeyOfLink(t.payload.j);
    if (!journeyId) return sendProblemPage(reply, 400, 'This link is not valid', 'Nothing was changed.');
    let result;
    try {
      result = await submitJourneyForm(deps, journeyId, {
        tokenId: t.payload.n,
        decision: form.data.decision,
        categories: kept,
        shownText: confirmPageText(t.business, requested),
        ip: request.ip,
        userAgent: String(request.headers['user-agent'] ?? ''),
        submittedAt: new Date().toISOString(),
      });
    } catch (err) {
      if (err instanceof UnavailableError) return sendProblemPage(reply, 503, 'Your answer could not be saved yet', 'Please press the button again in a minute.');
      throw err;
    }
    if (result === 'ended') return sendProblemPage(reply, 410, ENDED.title, ENDED.text);
    if (!result.accepted) return sendProblemPage(reply, 409, 'This link was already used', 'You already answered this request. Nothing more was changed.');
    if (result.status === 'confirmed') {
      const labels = categoryLabels(t.business, kept).join(', ');
      return sendPage(reply, 200, 'Thank you', `<h1>Thank you</h1><p>You will receive ${escapeHtml(labels)} from ${escapeHtml(t.business.name)} on WhatsApp. A confirmation is on its way there; reply STOP at any time to opt out.</p>`);
    }
    return sendPage(reply, 200, 'Thank you', `<h1>Thank you</h1><p>${escapeHtml(t.business.name)} will not send you WhatsApp messages. Nothing else is needed from you.</p>`);
  });

  app.get('/u/:token', pageRoute, async (request, reply) => {
    const t = checkPageToken(deps, reply, request.params, 'unsubscribe');
    if (!t) return reply;
    const choose = pageLinks(deps.publicBaseUrl, deps.pageTokenSecret).preferences(t.business.id, t.payload.c);
    return sendPage(
      reply,
      200,
      `Unsubscribe from ${t.business.name}`,
      `<h1>Unsubscribe from ${escapeHtml(t.business.name)}</h1><p>Press the button to stop every message from ${escapeHtml(t.business.name)} on WhatsApp, SMS and e-mail.</p>
<form method="post" action="/u/${escapeHtml(t.token)}"><button class="primary" type="submit" name="confirm" value="all">Unsubscribe from all</button></form>
<p class="muted">Only want fewer messages? <a href="${escapeHtml(choose)}">Choose which messages you receive</a>.</p>`,
    );
  });

  /** Both the page's button and RFC 8058 one-click (body "List-Unsubscribe=One-Click") land here. */
  app.post('/u/:token', unsubscribeForm, async (request, reply) => {
    const t = checkPageToken(deps, reply, request.params, 'unsubscribe');
    if (!t) return reply;
    const contact = await deps.store.contacts.findById(t.payload.c).lean();
    if (!contact) return sendProblemPage(reply, 404, 'We have no record of you', `${t.business.name} holds no contact details for this link, so there is nothing to unsubscribe.`);
    const input: OptOutInput = {
      origin: `email.${t.payload.n}`,
      businessId: t.business.id,
      contactId: t.payload.c,
      phone: contact.phone,
      channel: 'email',
      reason: 'unsubscribe link',
      source: { kind: 'unsubscribe_link' },
      receivedAt: new Date().toISOString(),
      payload: { body: request.body as Record<string, unknown>, ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') },
    };
    // Blocked before the answer, as for a STOP: nothing but the confirmation-free page after it.
    let r = await requestOptOut(deps, input);
    if (!r.started && r.progress === 'already_done' && (await optedBackInSince(deps, input))) {
      // The same old e-mail's link, used again after the contact opted back in: a new request, not a repeat.
      r = await requestOptOut(deps, { ...input, origin: `${input.origin}.${Date.now()}` });
    }
    if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'unsubscribe answered before the contact was blocked');
    return sendPage(reply, 200, 'Unsubscribed', `<h1>You are unsubscribed</h1><p>You will receive no more messages from ${escapeHtml(t.business.name)}. To opt back in, reply START to any of our messages.</p>`);
  });
}
