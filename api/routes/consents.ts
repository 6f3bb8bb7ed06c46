import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { contactIdOf } from '../../store/models';
import { consentOverview } from '../../store/queries';
import { blockMessaging, isBlocked } from '../../activities/optout';
import { OPTOUT_WORKFLOW_TYPE, optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import type { ApiDeps } from '../app';
import { HttpError, parseOr400 } from '../errors';
import { checkCategories, consentQuerySchema, optOutBodySchema } from '../schemas';
import { startOnce } from '../temporal';

/**
 * How long a webhook or API call spends blocking the contact (store writes and sends already at the
 * provider) before answering anyway; well under the 15 s after which Twilio gives up on a webhook.
 */
export const OPTOUT_BLOCK_WAIT_MS = 10_000;

/**
 * How long a webhook or API call waits for Temporal to take the opt-out's workflow. Past it (a server
 * overloaded or down), the opt-out is kept in the store instead (`optout_pending`) and a sweep starts
 * its workflow later: Twilio gives up on a webhook after 15 s and does not send it again, so a STOP
 * must never wait on Temporal alone.
 */
export const OPTOUT_START_WAIT_MS = 5_000;
const PENDING_SWEEP_MS = 10_000;

/**
 * 'blocked': the send gate refuses the contact and no send that passed it is still at the provider.
 * 'accepted': a subset of categories, recorded by the workflow (nothing is blocked).
 * 'already_done': a repeated request whose opt-out had already finished.
 * 'queued': Temporal did not take the workflow in time; the opt-out is kept in the store (the contact
 * is blocked if it was an opt-out of everything) and the API's sweep starts the workflow.
 * 'pending': the store did not answer (or a send stayed at the provider) within the wait; the
 * opt-out is durable in Temporal and its workflow blocks the contact as its first step.
 */
export type OptOutProgress = 'blocked' | 'accepted' | 'already_done' | 'queued' | 'pending';

interface PendingOptOutDoc {
  _id: string;
  input: OptOutInput;
  at: Date;
}
const pendingOptOuts = (store: ApiDeps['store']) => store.connection.collection<PendingOptOutDoc>('optout_pending');

type OptOutDeps = Pick<ApiDeps, 'client' | 'taskQueue' | 'store' | 'businesses'>;

function startOptOut(deps: OptOutDeps, input: OptOutInput) {
  return startOnce(deps.client, OPTOUT_WORKFLOW_TYPE, { workflowId: optOutWorkflowId(input.origin), taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
}

/** Starts the workflows of opt-outs that were kept in the store; each document goes once Temporal has its workflow. */
export async function startPendingOptOuts(deps: OptOutDeps, log: FastifyBaseLogger): Promise<number> {
  let started = 0;
  try {
    for (const doc of await pendingOptOuts(deps.store).find({}).limit(500).toArray()) {
      await startOptOut(deps, doc.input);
      await pendingOptOuts(deps.store).deleteOne({ _id: doc._id });
      started++;
    }
  } catch (err) {
    log.warn({ err }, 'starting kept opt-outs failed; the next sweep tries again');
  }
  return started;
}

/**
 * Starts one opt-out, keyed by its origin (a repeated delivery is a no-op), then blocks the contact
 * before answering. The workflow blocks it too, as its first step, but a busy worker can take seconds
 * to get there; blocking here makes "nothing but the confirmation after the acknowledgement" hold
 * whatever the task queue's backlog. When Temporal is slow or down the opt-out is kept in the store
 * instead, so the answer is durable either way (MongoDB down and Temporal slow at once: an error).
 */
export async function requestOptOut(
  deps: OptOutDeps,
  input: OptOutInput,
  waitMs = OPTOUT_BLOCK_WAIT_MS,
): Promise<{ optOutId: string; started: boolean; progress: OptOutProgress; detail?: string }> {
  const optOutId = optOutWorkflowId(input.origin);
  const deadline = Date.now() + waitMs;
  const all = deps.businesses.get(input.businessId)?.categories.map((c) => c.id) ?? [];
  const everything = !input.categories?.length || all.every((c) => input.categories!.includes(c));

  const starting = startOptOut(deps, input).then(
    (r) => ({ ok: true as const, started: r.started }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let startTimer: NodeJS.Timeout | undefined;
  const start = await Promise.race([starting, new Promise<undefined>((resolve) => (startTimer = setTimeout(() => resolve(undefined), Math.min(OPTOUT_START_WAIT_MS, waitMs))))]);
  clearTimeout(startTimer);

  let kept = false;
  if (!start?.ok) {
    // Temporal refused or is slow: keep the opt-out in the store; the sweep (or this start, once it lands) takes it from there.
    try {
      await pendingOptOuts(deps.store).updateOne({ _id: optOutId }, { $setOnInsert: { input, at: new Date() } }, { upsert: true });
    } catch (storeErr) {
      if (start && !start.ok) throw start.err;
      throw storeErr;
    }
    kept = true;
    void starting.then(async (late) => {
      if (late.ok) await pendingOptOuts(deps.store).deleteOne({ _id: optOutId }).catch(() => undefined);
    });
  }
  const started = start?.ok ? start.started : false;
  if (!everything) return { optOutId, started, progress: kept ? 'queued' : 'accepted' };
  if (start?.ok && !start.started) {
    // Only while the first delivery's opt-out still runs: a finished one may since have been undone by START.
    const status = await deps.client.workflow.getHandle(optOutId).describe().then((d) => d.status.name, () => 'UNKNOWN');
    if (status !== 'RUNNING') return { optOutId, started: false, progress: 'already_done' };
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), Math.max(0, deadline - Date.now()));
  });
  // A busy store refuses some writes (FerretDB on SQLite: "database is locked"): try again while the wait lasts.
  const blockUntilDone = async () => {
    for (;;) {
      try {
        return await blockMessaging(deps.store, { businessId: input.businessId, contactId: input.contactId, phone: input.phone, at: new Date(input.receivedAt) }, Math.max(0, deadline - Date.now()));
      } catch (err) {
        if (Date.now() > deadline - 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  try {
    const block = await Promise.race([blockUntilDone(), timedOut]);
    if (block === 'timed_out') return { optOutId, started, progress: 'pending', detail: `the store did not finish the block within ${waitMs} ms` };
    if (block.blocked && block.inFlight === 0) return { optOutId, started, progress: kept ? 'queued' : 'blocked' };
    return { optOutId, started, progress: 'pending', detail: block.blocked ? `${block.inFlight} send(s) still at the provider` : 'the contact opted back in later' };
  } catch (err) {
    return { optOutId, started, progress: 'pending', detail: `could not block in the store: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

export function registerConsentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  let sweep: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    void startPendingOptOuts(deps, app.log);
    sweep = setInterval(() => void startPendingOptOuts(deps, app.log), PENDING_SWEEP_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(sweep));

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
      messaging: (await isBlocked(deps.store, contactId, contact)) ? 'opted_out' : 'allowed',
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
    if (r.progress === 'pending') request.log.warn({ optOutId: r.optOutId, detail: r.detail }, 'opt-out accepted before the contact was blocked');
    const accepted = r.started || r.progress === 'queued';
    return reply.status(accepted ? 202 : 200).send({ optOutId: r.optOutId, existing: !accepted, categories: body.categories ?? 'all', progress: r.progress });
  });
}
