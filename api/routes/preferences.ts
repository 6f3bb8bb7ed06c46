import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { categoryLabels, type Business } from '../../domain/business';
import { escapeHtml } from '../../domain/escape';
import { applyPreferences, readPreferences, type ContactPreferences, type PreferenceResult, type SwitchOnOutcome } from '../../services/preferences';
import type { ApiDeps } from '../app';
import { FORM_LIMITS, formRoute } from '../form-body';
import { checkPageToken, pageErrorHandler, sendPage, sendProblemPage, type CheckedToken } from '../html';

export const preferencesForm = z.object({
  action: z.enum(['save', 'unsubscribe_all'], 'must be "save" or "unsubscribe_all"'),
  /** Fresh per rendering: a double submit of one page is one request, the same choice next month is another. */
  form: z.string('must be the form id the page was rendered with').regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be the form id the page was rendered with'),
  on: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

/** The page's words with the state it showed, as plain text: stored as proof of what the contact saw. */
export function preferencesPageText(business: Business, on: ReadonlySet<string>): string {
  return [
    `Your messages from ${business.name}`,
    `Choose which messages ${business.name} may send you on WhatsApp.`,
    ...business.categories.map((c) => `[${on.has(c.id) ? 'on' : 'off'}] ${c.label}`),
    '[Save my choices] [Unsubscribe from all]',
  ].join('\n');
}

function preferencesHtml(t: CheckedToken, state: ContactPreferences): string {
  const b = t.business;
  const toggles = b.categories
    .map((c) => `<label class="toggle"><span>${escapeHtml(c.label)}</span><input type="checkbox" role="switch" name="on" value="${escapeHtml(c.id)}"${state.on.has(c.id) ? ' checked' : ''}></label>`)
    .join('\n');
  return `<h1>Your messages from ${escapeHtml(b.name)}</h1>
${state.optedOutOfAll ? `<p class="notice">You are unsubscribed from all messages from ${escapeHtml(b.name)}. To receive messages again, reply START to ${escapeHtml(b.name)} on WhatsApp.</p>` : ''}
<p>Choose which messages ${escapeHtml(b.name)} may send you on <strong>WhatsApp</strong>. Switched on means you receive them.</p>
<form method="post" action="/p/${escapeHtml(t.token)}">
<input type="hidden" name="form" value="${randomBytes(12).toString('base64url')}">
<fieldset><legend>Messages on WhatsApp</legend>
${toggles}
</fieldset>
<button class="primary" type="submit" name="action" value="save">Save my choices</button>
<p>Or stop everything from ${escapeHtml(b.name)}, on every channel:</p>
<button class="danger" type="submit" name="action" value="unsubscribe_all">Unsubscribe from all</button>
</form>
<p class="muted">Switching a kind of message on sends you a WhatsApp message to confirm it; nothing is switched on until you answer there.</p>`;
}

function switchOnText(b: Business, labels: string, outcome: SwitchOnOutcome): string {
  const name = escapeHtml(b.name);
  switch (outcome.kind) {
    case 'asked':
      return `Almost done: ${labels}. We sent you a WhatsApp message; tap Yes there to switch these on.`;
    case 'journey_waiting':
      return `Not switched on yet: ${labels}. A WhatsApp message from ${name} is already waiting for your answer; answer it first, then come back here.`;
    case 'opt_out_settling':
      return `Not switched on yet: ${labels}. Please open this page again in a few minutes and switch them on.`;
    case 'tier_used_up':
      return `Not switched on yet: ${labels}. ${name} cannot start new WhatsApp conversations until ${escapeHtml(outcome.until.toUTCString())}; please open this page again after that and switch them on.`;
    case 'opted_out':
      return `Not switched on: ${labels}. You unsubscribed from all messages from ${name} earlier; to receive messages again, reply START to ${name} on WhatsApp.`;
  }
}

/** What changed, as the list the page shows. */
function summaryItems(b: Business, r: PreferenceResult): string[] {
  const items: string[] = [];
  const name = escapeHtml(b.name);
  if (r.switchedOff) {
    const when = r.switchedOff.settled ? '' : ' It can take a few minutes before this page shows it.';
    items.push(
      r.switchedOff.everything
        ? `You are unsubscribed from all messages from ${name}, on every channel.${escapeHtml(when)}`
        : `Switched off: ${escapeHtml(categoryLabels(b, r.switchedOff.categories).join(', '))}. You will not receive these any more.${escapeHtml(when)}`,
    );
  } else if (r.alreadyUnsubscribed) {
    items.push(`You were already unsubscribed from all messages from ${name}; nothing was changed.`);
  }
  if (r.switchedOn) items.push(switchOnText(b, escapeHtml(categoryLabels(b, r.switchedOn.categories).join(', ')), r.switchedOn.outcome));
  return items.map((text) => `<li>${text}</li>`);
}

export function registerPreferenceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const pageRoute = { errorHandler: pageErrorHandler };

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<{ t: CheckedToken; state: ContactPreferences } | undefined> {
    const t = checkPageToken(deps, reply, request.params, 'preferences');
    if (!t) return undefined;
    const state = await readPreferences(deps, t.business, t.payload.c);
    if (!state) {
      sendProblemPage(reply, 404, 'We have no record of you', `${t.business.name} holds no contact details for this link, so there are no messages to choose from.`);
      return undefined;
    }
    return { t, state };
  }

  app.get('/p/:token', pageRoute, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    return sendPage(reply, 200, `Your messages from ${loaded.t.business.name}`, preferencesHtml(loaded.t, loaded.state));
  });

  app.post('/p/:token', { ...pageRoute, ...formRoute(FORM_LIMITS.page) }, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { t, state } = loaded;
    const parsed = preferencesForm.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendProblemPage(reply, 400, 'The form was incomplete', `${issue.path.join('.') || 'form'} ${issue.message}. Open the link again and save once more. Nothing was changed.`);
    }
    const result = await applyPreferences(
      deps,
      state,
      {
        business: t.business,
        contactId: t.payload.c,
        linkNonce: t.payload.n,
        formId: parsed.data.form,
        action: parsed.data.action,
        on: parsed.data.on,
        shownText: preferencesPageText(t.business, state.on),
        evidence: { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') },
      },
      request.log,
    );
    const back = `<p><a href="/p/${escapeHtml(t.token)}">Back to your choices</a></p>`;
    if (result.nothingToChange) return sendPage(reply, 200, 'Nothing to change', `<h1>Nothing to change</h1><p>Your choices are the same as before; nothing was changed.</p>${back}`);
    return sendPage(reply, 200, 'Your choices are saved', `<h1>Your choices are saved</h1><ul>${summaryItems(t.business, result).join('\n')}</ul>${back}`);
  });
}
