import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { categoryLabels, type Business } from '../../domain/business';
import { createPageToken } from '../../lib/tokens';
import { optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { HttpError } from '../errors';
import { checkPageToken, escapeHtml, pageErrorHandler, sendPage, sendProblemPage, type CheckedToken } from '../html';
import { requestOptOut } from './consents';
import { startJourney, WhatsappTierUsedUpError } from './journeys';

/** How long the preference link in an e-mail or a HELP reply keeps working. */
export const PREFERENCES_LINK_DAYS = 180;

/** How long the page waits for an opt-out to be recorded before answering anyway (it is durable once started). */
const OPTOUT_WAIT_MS = 10_000;

/** The signed link to one contact's preference page; put it in e-mails and the HELP reply. */
export function preferencesUrl(publicBaseUrl: string, secret: string, businessId: string, contactId: string, validForDays = PREFERENCES_LINK_DAYS): string {
  const token = createPageToken(secret, { p: 'preferences', b: businessId, c: contactId, exp: Math.floor(Date.now() / 1000) + validForDays * 86_400 });
  return new URL(`/p/${token}`, publicBaseUrl).toString();
}

const preferencesForm = z.object({
  action: z.enum(['save', 'unsubscribe_all'], 'must be "save" or "unsubscribe_all"'),
  /** Fresh per rendering: a double submit of one page is one request, the same choice next month is another. */
  form: z.string('must be the form id the page was rendered with').regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be the form id the page was rendered with'),
  on: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

interface ContactState {
  phone: string;
  optedOutOfAll: boolean;
  on: Set<string>;
}

async function readContactState(deps: ApiDeps, business: Business, contactId: string): Promise<ContactState | undefined> {
  const [contact, consents] = await Promise.all([deps.store.contacts.findById(contactId).lean(), deps.store.consents.find({ businessId: business.id, contactId }).lean()]);
  if (!contact || contact.businessId !== business.id) return undefined;
  return { phone: contact.phone, optedOutOfAll: contact.messaging === 'opted_out', on: new Set(consents.filter((c) => c.status === 'opted_in').map((c) => c.category)) };
}

/** The page's words with the state it showed, as plain text: stored as proof of what the contact saw. */
export function preferencesPageText(business: Business, on: ReadonlySet<string>): string {
  return [
    `Your messages from ${business.name}`,
    `Choose which messages ${business.name} may send you on WhatsApp.`,
    ...business.categories.map((c) => `[${on.has(c.id) ? 'on' : 'off'}] ${c.label}`),
    '[Save my choices] [Unsubscribe from all]',
  ].join('\n');
}

function preferencesHtml(t: CheckedToken, state: ContactState): string {
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

function choiceHash(formId: string, choice: string): string {
  return createHash('sha256').update(`${formId}\n${choice}`).digest('base64url').slice(0, 16);
}

async function waitForOptOut(deps: ApiDeps, workflowId: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      deps.client.workflow.getHandle(workflowId).result().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), OPTOUT_WAIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function summaryItem(text: string): string {
  return `<li>${text}</li>`;
}

export function registerPreferenceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const pageRoute = { errorHandler: pageErrorHandler };

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<{ t: CheckedToken; state: ContactState } | undefined> {
    const t = checkPageToken(deps, reply, request.params, 'preferences');
    if (!t) return undefined;
    const state = await readContactState(deps, t.business, t.payload.c);
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

  /**
   * Switching off goes through the opt-out workflow (channel web; this page is the confirmation), switching
   * on starts a WhatsApp double opt-in journey: the contact's own act, confirmed where the messages will come.
   */
  app.post('/p/:token', pageRoute, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { t, state } = loaded;
    const b = t.business;
    const parsed = preferencesForm.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendProblemPage(reply, 400, 'The form was incomplete', `${issue.path.join('.') || 'form'} ${issue.message}. Open the link again and save once more. Nothing was changed.`);
    }
    const form = parsed.data;
    const all = b.categories.map((c) => c.id);
    const wanted = new Set(form.on.filter((c) => all.includes(c)));
    const everything = form.action === 'unsubscribe_all';
    const switchOff = everything ? all : all.filter((c) => state.on.has(c) && !wanted.has(c));
    const switchOn = everything ? [] : all.filter((c) => wanted.has(c) && !state.on.has(c));
    const back = `<p><a href="/p/${escapeHtml(t.token)}">Back to your choices</a></p>`;

    if (switchOff.length === 0 && switchOn.length === 0) {
      return sendPage(reply, 200, 'Nothing to change', `<h1>Nothing to change</h1><p>Your choices are the same as before; nothing was changed.</p>${back}`);
    }

    const items: string[] = [];
    let optOutSettled = true;
    if (switchOff.length > 0 && !(everything && state.optedOutOfAll)) {
      const origin = `web.${t.payload.n}.${choiceHash(form.form, everything ? 'all' : `off:${switchOff.join(',')}`)}`;
      const shownText = preferencesPageText(b, state.on);
      const input: OptOutInput = {
        origin,
        businessId: b.id,
        contactId: t.payload.c,
        phone: state.phone,
        channel: 'web',
        categories: everything ? undefined : switchOff,
        reason: everything ? 'unsubscribe from all on the preference page' : 'switched off on the preference page',
        source: { kind: 'preferences_page', reference: t.payload.n },
        receivedAt: new Date().toISOString(),
        text: shownText,
        payload: { form: { action: form.action, on: form.on }, ip: request.ip, userAgent: String(request.headers['user-agent'] ?? ''), shownText },
      };
      const workflowId = optOutWorkflowId(origin);
      // "Unsubscribe from all" blocks the contact before the page answers, as a STOP does.
      const r = await requestOptOut(deps, input);
      if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'preference page answered before the contact was blocked');
      // Kept in the store while Temporal is slow (the sweep starts it): nothing to wait for yet.
      optOutSettled = r.progress === 'queued' ? false : await waitForOptOut(deps, workflowId);
      const when = optOutSettled ? '' : ' It can take a few minutes before this page shows it.';
      items.push(
        everything
          ? summaryItem(`You are unsubscribed from all messages from ${escapeHtml(b.name)}, on every channel.${escapeHtml(when)}`)
          : summaryItem(`Switched off: ${escapeHtml(categoryLabels(b, switchOff).join(', '))}. You will not receive these any more.${escapeHtml(when)}`),
      );
    } else if (everything) {
      items.push(summaryItem(`You were already unsubscribed from all messages from ${escapeHtml(b.name)}; nothing was changed.`));
    }

    if (switchOn.length > 0) {
      const labels = escapeHtml(categoryLabels(b, switchOn).join(', '));
      if (!optOutSettled) {
        // Starting a journey while the opt-out is still running would let that opt-out end the new journey.
        items.push(summaryItem(`Not switched on yet: ${labels}. Please open this page again in a few minutes and switch them on.`));
      } else {
        try {
          const started = await startJourney(deps, {
            businessId: b.id,
            contact: { phone: state.phone },
            categories: switchOn,
            plan: [{ channel: 'whatsapp', waitFor: '24h' }],
            source: { kind: 'preferences_page', reference: `web.${t.payload.n}` },
          });
          items.push(
            started.existing
              ? summaryItem(`Not switched on yet: ${labels}. A WhatsApp message from ${escapeHtml(b.name)} is already waiting for your answer; answer it first, then come back here.`)
              : summaryItem(`Almost done: ${labels}. We sent you a WhatsApp message; tap Yes there to switch these on.`),
          );
        } catch (err) {
          if (err instanceof WhatsappTierUsedUpError) {
            items.push(summaryItem(`Not switched on yet: ${labels}. ${escapeHtml(b.name)} cannot start new WhatsApp conversations until ${escapeHtml(new Date(Date.now() + err.retryAfterSeconds * 1000).toUTCString())}; please open this page again after that and switch them on.`));
            return sendPage(reply, 200, 'Your choices are saved', `<h1>Your choices are saved</h1><ul>${items.join('\n')}</ul>${back}`);
          }
          if (!(err instanceof HttpError) || err.statusCode !== 409) throw err;
          items.push(summaryItem(`Not switched on: ${labels}. You unsubscribed from all messages from ${escapeHtml(b.name)} earlier; to receive messages again, reply START to ${escapeHtml(b.name)} on WhatsApp.`));
        }
      }
    }

    return sendPage(reply, 200, 'Your choices are saved', `<h1>Your choices are saved</h1><ul>${items.join('\n')}</ul>${back}`);
  });
}
