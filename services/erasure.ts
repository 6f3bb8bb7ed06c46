import { SYSTEM_ACTOR, type LedgerActor } from '../domain/access';
import { createHmac } from 'node:crypto';
import { runningCampaignsOf, scrubSubjectData, suppressErasedContact, type ErasureCounts } from '../store/erasure';
import { contactIdOf } from '../store/models';
import { appendConsentEvent, consentEvent } from '../store/queries';
import { claimRequestId } from '../store/request-ids';
import { optOutIdsOf, type SubjectKey } from '../store/subject';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps, ServiceLog } from './deps';
import { RequestIdReusedError, ServiceError } from './errors';
import { deleteContactWorkflows } from './erasure-workflows';
import { runStatus } from './temporal';

/** The ledger's category for an act about every category (the opt-out of everything uses it too). */
const EVERY_CATEGORY = '*';

/** The number as erasure keeps it: a keyed hash, so no one without the secret can test a guessed number. */
export function suppressionHashOf(secret: string, businessId: string, phoneE164: string): string {
  return createHmac('sha256', secret).update(`${businessId}\n${phoneE164}`).digest('hex');
}

/** Erasure cannot run now; `code` says why, and the same request later can. */
export class ErasureRefusedError extends ServiceError {
  constructor(code: 'optout_in_progress' | 'events_pending' | 'campaign_running', message: string, retryAfterSeconds?: number) {
    super('conflict', code, message, undefined, retryAfterSeconds);
  }
}

export class ErasureNotConfiguredError extends ServiceError {
  constructor() {
    super('unavailable', 'erasure_not_configured', 'erasure needs ERASURE_HASH_SECRET (the key of the hash that keeps an erased number suppressed); nothing was changed');
  }
}

export interface ErasureRequest {
  businessId: string;
  phone: string;
  requestId: string;
  callerId: string;
  /** The key that asked for the erasure: the erasure event's actor. */
  actor?: LedgerActor;
}

export interface ErasureResult {
  businessId: string;
  contactId: string;
  requestId: string;
  /** The same request was made before; this run finished anything it left. */
  existing: boolean;
  eventId: string;
  workflows: { deleted: number; terminated: number };
  store: ErasureCounts;
  ledgerEvents: number;
}

/**
 * Refusals, before anything changes: an opt-out still being recorded would write the number back (and
 * must finish, so the block stands); events kept for a sweep would replay it; a campaign still starting
 * journeys owns its rows. A running journey is no reason to refuse: erasure ends it.
 */
async function refuseWhileBusy(deps: ServiceDeps, s: SubjectKey): Promise<void> {
  const optOutIds = await optOutIdsOf(deps.store, s);
  const running = await Promise.all(optOutIds.map((id) => runStatus(deps.client.workflow.getHandle(id))));
  if (running.some((status) => status === 'RUNNING')) throw new ErasureRefusedError('optout_in_progress', 'an opt-out of this contact is still being recorded; ask again in a few seconds', 5);
  const pendingEvents = await deps.store.connection.collection('events_pending').countDocuments({ 'event.input.contactId': s.contactId });
  if (pendingEvents > 0) throw new ErasureRefusedError('events_pending', `${pendingEvents} messages from this contact wait for the workflow service; ask again once they are handed over`, 15);
  const campaigns = await runningCampaignsOf(deps.store, s);
  if (campaigns.length > 0) throw new ErasureRefusedError('campaign_running', `the contact is a row of campaign ${campaigns.join(', ')}, still running; erase once it has finished or been cancelled`);
}

/**
 * Erases one person (docs/compliance.md): blocks the number and keeps its keyed hash, ends and deletes
 * the contact's workflows, scrubs the store, and records the erasure in the ledger. Repeating the same
 * request id repeats nothing that was done and finishes anything that was not.
 */
export async function eraseContact(deps: ServiceDeps & { erasureHashSecret?: string }, r: ErasureRequest, log?: ServiceLog): Promise<ErasureResult> {
  const business = requireKnownBusiness(deps.businesses, r.businessId);
  if (!deps.erasureHashSecret) throw new ErasureNotConfiguredError();
  const s: SubjectKey = { businessId: business.id, contactId: contactIdOf(business.id, r.phone), phone: r.phone };
  const suppressionHash = suppressionHashOf(deps.erasureHashSecret, business.id, r.phone);
  const origin = `erase.${business.id}.${r.callerId}.${r.requestId}`;

  await refuseWhileBusy(deps, s);
  const claim = await claimRequestId(deps.store, origin, { subject: suppressionHash });
  if (!claim.claimed && claim.request.subject !== suppressionHash) throw new RequestIdReusedError(r.requestId, business.id, ['phone']);

  const at = new Date();
  await suppressErasedContact(deps.store, s, suppressionHash, at);
  const workflows = await deleteContactWorkflows(deps, s);
  const eventId = `${origin}:erased`;
  await appendConsentEvent(deps.store, consentEvent(s, eventId, EVERY_CATEGORY, 'erased', at, { requestId: r.requestId, callerId: r.callerId, workflowsDeleted: workflows.deleted }, r.actor ?? SYSTEM_ACTOR));
  const counts = await scrubSubjectData(deps.store, s, eventId, at);
  const ledgerEvents = await deps.store.consentEvents.countDocuments({ businessId: s.businessId, contactId: s.contactId });
  log?.info({ contactId: s.contactId, businessId: s.businessId, workflows, counts }, 'contact erased');
  return { businessId: business.id, contactId: s.contactId, requestId: r.requestId, existing: !claim.claimed, eventId, workflows, store: counts, ledgerEvents };
}
