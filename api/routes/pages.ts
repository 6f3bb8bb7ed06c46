import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { categoryLabels, type Business } from '../../domain/business';
import { verifyPageToken, type PageTokenPayload } from '../../lib/tokens';
import { journeyStateQuery, parseJourneyId, submitFormUpdate } from '../../workflows/journey/contract';
import { OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { escapeHtml, page } from '../html';
import { startOnce } from '../temporal';

const tokenParams = z.object({ token: z.string().min(10).max(4096) });
const confirmForm = z.object({
  decision: z.enum(['confirm', 'decline']),
  categories: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

const TOKEN_PROBLEM: Record<string, { status: number; title: string; text: string }> = {
  expired: { status: 410, title: 'This link has expired', text: 'The request this link belongs to has ended. Nothing was changed.' },
  bad_signature: { status: 403, title: 'This link is not valid', text: 'The link may have been copied incompletely. Nothing was changed.' },
  malformed: { status: 400, title: 'This link is not valid', text: 'The link may have been copied incompletely. Nothing was changed.' },
  wrong_purpose: { status: 400, title: 'This link is not valid', text: 'Nothing was changed.' },
};

function problemPage(reply: FastifyReply, status: number, title: string, text: string) {
  return reply.status(status).type('text/html; charset=utf-8').send(page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`));
}

/** The exact words the confirmation form shows; the same string is stored as proof of what was shown. */
export function confirmPageText(business: Business, categories: string[]): string {
  return `${business.name} asks to send you these messages on WhatsApp: ${categoryLabels(business, categories).join(', ')}. Untick anything you do not want. You can opt out at any time by replying STOP on WhatsApp.`;
}

function confirmFormHtml(token: string, business: Business, categories: string[]): string {
  const boxes = categories
    .map((c) => `<label><input type="checkbox" name="categories" value="${escapeHtml(c)}" checked> ${escapeHtml(categoryLabels(business, [c])[0])}</label>`)
    .join('\n');
  return `<h1>${escapeHtml(business.name)} on WhatsApp</h1>
<p>${escapeHtml(business.name)} would like to send you messages on <strong>WhatsApp</strong>. Choose what you agree to receive:</p>
<form method="post" action="/c/${escapeHtml(token)}">
<fieldset><legend>Messages from ${escapeHtml(business.name)}</legend>
${boxes}
</fieldset>
<button class="primary" type="submit" name="decision" value="confirm">Confirm</button>
<button type="submit" name="decision" value="decline">Decline</button>
</form>
<p class="muted">Nothing changes until you press a button. You can opt out at any time by replying STOP on WhatsApp.</p>`;
}

export function registerPageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  function checkToken(reply: FastifyReply, rawParams: unknown, purpose: PageTokenPayload['p']): { payload: PageTokenPayload; business: Business; token: string } | undefined {
    const params = tokenParams.safeParse(rawParams);
    if (!params.success) {
      problemPage(reply, 400, 'This link is not valid', 'The link may have been copied incompletely. Nothing was changed.');
      return undefined;
    }
    const check = verifyPageToken(deps.pageTokenSecret, params.data.token, purpose);
    if (!check.ok) {
      const p = TOKEN_PROBLEM[check.reason];
      problemPage(reply, p.status, p.title, p.text);
      return undefined;
    }
    const business = deps.businesses.get(check.payload.b);
    if (!business) {
      problemPage(reply, 404, 'This link is not valid', 'Nothing was changed.');
      return undefined;
    }
    return { payload: check.payload, business, token: params.data.token };
  }

  /** Showing the page changes nothing: mail scanners open links, only the form POST decides. */
  app.get('/c/:token', async (request, reply) => {
    const t = checkToken(reply, request.params, 'confirm');
    if (!t) return reply;
    const ids = t.payload.j ? parseJourneyId(t.payload.j) : undefined;
    if (!ids) return problemPage(reply, 400, 'This link is not valid', 'Nothing was changed.');
    try {
      const handle = deps.client.workflow.getHandle(ids.workflowId, ids.runId);
      const described = await handle.describe();
      if (described.status.name !== 'RUNNING') return problemPage(reply, 410, 'This request has ended', 'You already answered, or the request expired. Nothing was changed.');
      const state = await handle.query(journeyStateQuery);
      if (state.status !== 'active') return problemPage(reply, 410, 'This request has ended', 'You already answered, or the request expired. Nothing was changed.');
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return problemPage(reply, 410, 'This request has ended', 'Nothing was changed.');
      throw err;
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(`${t.business.name} on WhatsApp`, confirmFormHtml(t.token, t.business, t.payload.cats ?? [])));
  });

  app.post('/c/:token', async (request, reply) => {
    const t = checkToken(reply, request.params, 'confirm');
    if (!t) return reply;
    const form = confirmForm.safeParse(request.body ?? {});
    if (!form.success) return problemPage(reply, 400, 'Please choose Confirm or Decline', 'The form was incomplete. Go back and press Confirm or Decline.');
    const requested = t.payload.cats ?? [];
    const kept = form.data.categories.filter((c) => requested.includes(c));
    const ids = t.payload.j ? parseJourneyId(t.payload.j) : undefined;
    if (!ids) return problemPage(reply, 400, 'This link is not valid', 'Nothing was changed.');
    try {
      const result = await deps.client.workflow.getHandle(ids.workflowId, ids.runId).executeUpdate(submitFormUpdate, {
        args: [
          {
            tokenId: t.payload.n,
            decision: form.data.decision,
            categories: kept,
            shownText: confirmPageText(t.business, requested),
            ip: request.ip,
            userAgent: String(request.headers['user-agent'] ?? ''),
            submittedAt: new Date().toISOString(),
          },
        ],
      });
      if (!result.accepted) return problemPage(reply, 409, 'This link was already used', `${result.reason}. Nothing more was changed.`);
      if (result.status === 'confirmed') {
        const labels = categoryLabels(t.business, kept).join(', ');
        return reply.type('text/html; charset=utf-8').send(page('Thank you', `<h1>Thank you</h1><p>You will receive ${escapeHtml(labels)} from ${escapeHtml(t.business.name)} on WhatsApp. A confirmation is on its way there; reply STOP at any time to opt out.</p>`));
      }
      return reply.type('text/html; charset=utf-8').send(page('Thank you', `<h1>Thank you</h1><p>${escapeHtml(t.business.name)} will not send you WhatsApp messages.</p>`));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError || /already completed/i.test((err as Error).message)) {
        return problemPage(reply, 410, 'This request has ended', 'You already answered, or the request expired. Nothing was changed.');
      }
      throw err;
    }
  });

  app.get('/u/:token', async (request, reply) => {
    const t = checkToken(reply, request.params, 'unsubscribe');
    if (!t) return reply;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
      page(
        `Unsubscribe from ${t.business.name}`,
        `<h1>Unsubscribe from ${escapeHtml(t.business.name)}</h1><p>Press the button to stop every message from ${escapeHtml(t.business.name)} on WhatsApp, SMS and e-mail.</p>
<form method="post" action="/u/${escapeHtml(t.token)}"><button class="primary" type="submit" name="confirm" value="all">Unsubscribe from all</button></form>`,
      ),
    );
  });

  /** Both the page's button and RFC 8058 one-click (body "List-Unsubscribe=One-Click") land here. */
  app.post('/u/:token', async (request, reply) => {
    const t = checkToken(reply, request.params, 'unsubscribe');
    if (!t) return reply;
    const contact = await deps.store.contacts.findById(t.payload.c).lean();
    if (!contact) return problemPage(reply, 404, 'This link is not valid', 'Nothing was changed.');
    const origin = `email.${t.payload.n}`;
    const input: OptOutInput = {
      origin,
      businessId: t.business.id,
      contactId: t.payload.c,
      phone: contact.phone,
      channel: 'email',
      reason: 'unsubscribe link',
      source: { kind: 'unsubscribe_link' },
      receivedAt: new Date().toISOString(),
      payload: { body: request.body as Record<string, unknown>, ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') },
    };
    await startOnce(deps.client, OPTOUT_WORKFLOW_TYPE, { workflowId: optOutWorkflowId(origin), taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return reply.type('text/html; charset=utf-8').send(page('Unsubscribed', `<h1>You are unsubscribed</h1><p>You will receive no more messages from ${escapeHtml(t.business.name)}. To opt back in, reply START to any of our messages.</p>`));
  });
}
