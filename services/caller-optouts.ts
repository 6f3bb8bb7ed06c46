import { randomUUID } from 'node:crypto';
import type { KeyActor } from '../domain/access';
import type { Business } from '../domain/business';
import { contactIdOf } from '../store/models';
import { claimRequestId } from '../store/request-ids';
import type { OptOutChannel } from '../workflows/optout/contract';
import type { ServiceDeps } from './deps';
import { RequestIdReusedError } from './errors';
import { requestOptOut, type OptOutOutcome } from './optouts';

/** An opt-out another system asks for (POST /v1/optouts): an agent's tool, a CRM. */
export interface CallerOptOut {
  business: Business;
  /** Who asked (a hash of the API key used): a request id is the caller's own, within one business. */
  callerId: string;
  /** Makes the call repeatable: the same id with the same request is the same opt-out. */
  requestId?: string;
  phone: string;
  categories?: string[];
  reason: string;
  source: { kind: OptOutChannel; reference?: string };
  /** The key that asked, with the agent and ticket where given: recorded in the ledger. */
  actor?: KeyActor;
}

/** The parts of a caller's opt-out a repeat must match, each compared on its own so a conflict can name them. */
function askedFor(r: CallerOptOut): Record<string, unknown> {
  return { phone: r.phone, categories: r.categories ? [...r.categories].sort() : 'all', reason: r.reason, source: { kind: r.source.kind, reference: r.source.reference ?? null } };
}

/** Keeps the request under its id; the same id for anything else is refused, naming what differs. */
async function requireSameRequest(deps: ServiceDeps, key: string, r: CallerOptOut & { requestId: string }): Promise<void> {
  const asked = askedFor(r);
  const claim = await claimRequestId(deps.store, key, asked);
  if (claim.claimed) return;
  const differing = Object.keys(asked).filter((field) => JSON.stringify(claim.request[field]) !== JSON.stringify(asked[field]));
  if (differing.length) throw new RequestIdReusedError(r.requestId, r.business.id, differing);
}

/**
 * A caller's opt-out. Its request id is scoped to the business and the caller, so another business or
 * another caller using the same id asks for an opt-out of its own; the same id for a different
 * request is a conflict, never the earlier request's answer.
 */
export async function requestCallerOptOut(deps: ServiceDeps, r: CallerOptOut): Promise<OptOutOutcome> {
  const origin = r.requestId ? `api.${r.business.id}.${r.callerId}.${r.requestId}` : `api.${randomUUID()}`;
  if (r.requestId) await requireSameRequest(deps, origin, { ...r, requestId: r.requestId });
  return requestOptOut(deps, {
    origin,
    businessId: r.business.id,
    contactId: contactIdOf(r.business.id, r.phone),
    phone: r.phone,
    channel: r.source.kind,
    categories: r.categories,
    reason: r.reason,
    source: r.source,
    receivedAt: new Date().toISOString(),
    payload: { reason: r.reason, source: r.source, categories: r.categories ?? 'all' },
    // An agent relaying what the contact said in a chat confirms there; other sources have no thread to answer in.
    confirmOn: r.source.kind === 'sms' || r.source.kind === 'whatsapp' ? r.source.kind : undefined,
    ...(r.actor ? { actor: r.actor } : {}),
  });
}
