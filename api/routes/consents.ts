import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { contactIdOf } from '../../store/models';
import { consentOverview } from '../../store/queries';
import { contactBlockedUpdate, OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { checkCategories, consentQuerySchema, optOutBodySchema } from '../schemas';
import { startOnce } from '../temporal';

/** How long a webhook or API call waits for the opt-out to block the contact before answering anyway. */
export const OPTOUT_BLOCK_WAIT_MS = 5_000;

/**
 * 'blocked': the send gate refuses the contact and no send that passed it is still at the provider.
 * 'recorded': a subset opt-out, written before the answer. 'already_done': a repeated request whose
 * opt-out had finished. 'pending': the worker did not get to it within the wait; it is durable anyway.
 */
export type OptOutProgress = 'blocked' | 'recorded' | 'already_done' | 'pending';

/**
 * Starts one opt-out, keyed by its origin (a repeated delivery is a no-op), then waits for its first
 * activity to block the contact. Answering only after that makes "nothing after the acknowledgement"
 * true; the start alone is already durable, which is what the answer falls back to when no worker runs.
 */
export async function requestOptOut(
  deps: Pick<ApiDeps, 'client' | 'taskQueue'>,
  input: OptOutInput,
  waitMs = OPTOUT_BLOCK_WAIT_MS,
): Promise<{ optOutId: string; started: boolean; progress: OptOutProgress }> {
  const optOutId = optOutWorkflowId(input.origin);
  const start = await startOnce(deps.client, OPTOUT_WORKFLOW_TYPE, { workflowId: optOutId, taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  const handle = deps.client.workflow.getHandle(optOutId);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), waitMs);
  });
  try {
    const progress = await Promise.race([handle.executeUpdate(contactBlockedUpdate).then((b): OptOutProgress => (b.blocked ? 'blocked' : 'recorded')), timedOut]);
    return { optOutId, started: start.started, progress };
  } catch (err) {
    const status = await handle.describe().then((d) => d.status.name, () => 'UNKNOWN');
    if (status === 'COMPLETED') return { optOutId, started: start.started, progress: 'already_done' };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function registerConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/consents', async (request) => {
    const q = parseOr400(consentQuerySchema, request.query, 'query');
    const business = deps.businesses.get(q.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `query is invalid: businessId: unknown business "${q.businessId}"`);
    const contactId = contactIdOf(business.id, q.phone);
    const { contact, consents, events } = await consentOverview(deps.store, business.id, contactId);
    const byCategory = new Map(consents.map((c) => [c.category, c]));
    return {
      businessId: business.id,
      businessName: business.name,
      phone: q.phone,
      contactId,
      known: !!contact,
      messaging: contact?.messaging ?? 'allowed',
      categories: business.categories.map((cat) => {
        const c = byCategory.get(cat.id);
        return { category: cat.id, label: cat.label, status: c?.status ?? 'none', since: c?.since, eventId: c?.lastEventId, journeyId: c?.journeyId, confirmationMessageId: c?.confirmationMessageId };
      }),
      events: events.map((e) => ({ eventId: e._id, category: e.category, type: e.type, at: e.at, proof: e.proof })),
    };
  });

  /** For agents and other systems: keyed by the caller's request id, so a retried call is a no-op. */
  app.post('/optouts', async (request, reply) => {
    const body = parseOr400(optOutBodySchema, request.body, 'body');
    const business = deps.businesses.get(body.businessId);
    if (!business) throw new HttpError(400, 'invalid_request', `body is invalid: businessId: unknown business "${body.businessId}"`);
    const unknown = checkCategories(business, body.categories ?? []);
    if (unknown.length) throw new HttpError(400, 'invalid_request', `body is invalid: ${unknown.map((u) => `${u.field}: ${u.rule}`).join('; ')}`, unknown);
    const contactId = contactIdOf(business.id, body.phone);
    const origin = `api.${body.requestId ?? randomUUID()}`;
    const input: OptOutInput = {
      origin,
      businessId: business.id,
      contactId,
      phone: body.phone,
      channel: body.source.kind,
      categories: body.categories,
      reason: body.reason,
      source: { kind: body.source.kind, reference: body.source.reference },
      receivedAt: new Date().toISOString(),
      payload: { reason: body.reason, source: body.source, categories: body.categories ?? 'all' },
      // An agent relaying what the contact said in a chat confirms there; other sources have no thread to answer in.
      confirmOn: body.source.kind === 'sms' || body.source.kind === 'whatsapp' ? body.source.kind : undefined,
    };
    const r = await requestOptOut(deps, input);
    return reply.status(r.started ? 202 : 200).send({ optOutId: r.optOutId, existing: !r.started, categories: body.categories ?? 'all', progress: r.progress });
  });
}
