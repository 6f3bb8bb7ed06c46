import { randomBytes } from 'node:crypto';
import { isObviouslyInternal } from '../lib/address-policy';
import { isSealed, SEALED_PREFIX, SecretUnavailableError } from '../lib/secret-box';
import type { DeliverySettings, DeliveryStatus } from '../domain/consent-events';
import { deliveriesOf, endpointsOf, findEndpoint, insertEndpoint, endpointSecrets, removeEndpoint, replaceEndpointSecret, type EventEndpointDoc } from '../store/event-endpoints';
import {
  eventDeliveryWorkflowId,
  eventDeliveryWorkflowRef,
  eventsAppendedSignal,
  replayEventsSignal,
  stopDeliverySignal,
  type EventDeliveryInput,
} from '../workflows/event-delivery/contract';
import { requireKnownBusiness } from './businesses';
import type { ServiceDeps } from './deps';
import { InvalidInputError, NotFoundError, ServiceError } from './errors';
import { signalIfRunning, type TemporalAccess } from './temporal';

/**
 * The services' dependencies plus, for tests and operators, other delivery settings than the
 * defaults, and whether receivers at loopback or private addresses are accepted (EVENT_ENDPOINTS_ALLOW_PRIVATE).
 */
export type EventEndpointDeps = ServiceDeps & { eventDelivery?: Partial<DeliverySettings>; allowPrivateReceivers?: boolean };

type Endpoint = Omit<EventEndpointDoc, 'createdAt' | 'updatedAt'> & { _id: string; createdAt?: Date };

function inputOf(endpoint: Endpoint, settings?: Partial<DeliverySettings>): EventDeliveryInput {
  return { endpointId: endpoint._id, businessId: endpoint.businessId, deliverFrom: endpoint.deliverFrom.getTime(), ...(settings ? { settings } : {}) };
}

/**
 * Signals the endpoint's delivery workflow, starting it when it is not running (a first wake, or
 * one that ended): one signal-with-start, so a wake is never lost between "is it running" and "start".
 */
export async function wakeEndpoint(t: TemporalAccess, endpoint: Endpoint, settings?: Partial<DeliverySettings>): Promise<void> {
  await t.client.workflow.signalWithStart(eventDeliveryWorkflowRef.type, {
    workflowId: eventDeliveryWorkflowId(endpoint._id),
    taskQueue: t.taskQueue,
    args: [inputOf(endpoint, settings)],
    signal: eventsAppendedSignal,
    signalArgs: [],
  });
}

const view = (e: Endpoint) => ({ endpointId: e._id, businessId: e.businessId, url: e.url, description: e.description ?? undefined, deliverFrom: e.deliverFrom, createdAt: e.createdAt });

export interface NewEventEndpoint {
  businessId: string;
  url: string;
  /** The caller's HMAC key; when absent one is generated and returned once. */
  secret?: string;
  description?: string;
}

export class EventSecretsNotConfiguredError extends ServiceError {
  constructor() {
    super('unavailable', 'event_endpoints_not_configured', 'event endpoints need EVENT_SECRETS_KEY (it seals their signing secrets in the store); nothing was registered');
  }
}

/** Registers an endpoint and starts its delivery workflow; ledger events from now on reach it. */
export async function registerEventEndpoint(deps: EventEndpointDeps, req: NewEventEndpoint) {
  const business = requireKnownBusiness(deps.businesses, req.businessId);
  if (req.secret !== undefined && isSealed(req.secret)) throw new InvalidInputError('body', [{ field: 'secret', rule: `must not begin with "${SEALED_PREFIX}" (the prefix of secrets sealed in the store)` }]);
  if (!deps.eventSecrets) throw new EventSecretsNotConfiguredError();
  // A name is checked again at each delivery (it may resolve elsewhere later); what is plainly internal is refused now.
  if (!deps.allowPrivateReceivers && isObviouslyInternal(new URL(req.url))) {
    throw new InvalidInputError('body', [{ field: 'url', rule: 'must point to a public address, not a loopback, private or link-local one (EVENT_ENDPOINTS_ALLOW_PRIVATE=true allows them)', value: req.url }]);
  }
  const generated = req.secret === undefined;
  const secret = req.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
  const endpointId = `ep_${randomBytes(8).toString('hex')}`;
  const endpoint: Endpoint = { _id: endpointId, businessId: business.id, url: req.url, secret: deps.eventSecrets.seal(secret, endpointId), description: req.description, deliverFrom: new Date() };
  await insertEndpoint(deps.store, endpoint);
  await wakeEndpoint(deps, endpoint, deps.eventDelivery);
  return { ...view(endpoint), ...(generated ? { secret } : {}) };
}

export async function listEventEndpoints(deps: ServiceDeps, businessId: string) {
  const business = requireKnownBusiness(deps.businesses, businessId, 'query');
  return { businessId: business.id, endpoints: (await endpointsOf(deps.store, business.id)).map(view) };
}

export async function requireEndpoint(deps: ServiceDeps, endpointId: string): Promise<Endpoint> {
  const endpoint = await findEndpoint(deps.store, endpointId);
  if (!endpoint) throw new NotFoundError(`event endpoint ${endpointId}`);
  return endpoint;
}

/** Deletes the endpoint; its workflow ends after the round it may be in (which then finds no endpoint and sends nothing more). */
export async function deleteEventEndpoint(deps: ServiceDeps, endpointId: string) {
  const endpoint = await requireEndpoint(deps, endpointId);
  await removeEndpoint(deps.store, endpointId);
  await signalIfRunning(deps.client, eventDeliveryWorkflowId(endpointId), undefined, stopDeliverySignal);
  return { endpointId, businessId: endpoint.businessId, deleted: true };
}

export async function eventDeliveries(deps: ServiceDeps, endpointId: string, q: { status?: DeliveryStatus; limit: number; before?: Date }) {
  const endpoint = await requireEndpoint(deps, endpointId);
  const rows = await deliveriesOf(deps.store, endpointId, q);
  return {
    endpointId,
    businessId: endpoint.businessId,
    deliveries: rows.map((d) => ({
      eventId: d.eventId,
      contactId: d.contactId,
      category: d.category,
      type: d.type,
      status: d.status,
      attempts: d.attempts,
      replays: d.replays,
      firstAttemptAt: d.firstAttemptAt,
      lastAttemptAt: d.lastAttemptAt,
      deliveredAt: d.deliveredAt ?? undefined,
      deadLetteredAt: d.deadLetteredAt ?? undefined,
      lastStatus: d.lastStatus ?? undefined,
      lastError: d.lastError ?? undefined,
    })),
    nextBefore: rows.length === q.limit ? rows[rows.length - 1].lastAttemptAt : undefined,
  };
}

/** Asks the endpoint's workflow to send again every event that happened from `since`, after what it is doing. */
export async function replayEventsTo(deps: EventEndpointDeps, endpointId: string, since: Date) {
  const endpoint = await requireEndpoint(deps, endpointId);
  const requestId = `replay_${randomBytes(6).toString('hex')}`;
  await deps.client.workflow.signalWithStart(eventDeliveryWorkflowRef.type, {
    workflowId: eventDeliveryWorkflowId(endpointId),
    taskQueue: deps.taskQueue,
    args: [inputOf(endpoint, deps.eventDelivery)],
    signal: replayEventsSignal,
    signalArgs: [{ requestId, since: since.getTime() }],
  });
  return { endpointId, businessId: endpoint.businessId, replayId: requestId, since };
}

export interface ResealedSecrets {
  /** Kept plain by a version before secrets were sealed, now sealed. */
  sealed: number;
  /** Sealed under one of EVENT_SECRETS_PREVIOUS_KEYS, now under EVENT_SECRETS_KEY. */
  resealed: number;
  /** Endpoints whose secret opens with none of the keys: their rounds fail until they are registered again. */
  unopenable: string[];
}

/**
 * Brings every endpoint's secret under the current key (run at the API's start when EVENT_SECRETS_KEY
 * is set): plain ones are sealed, ones sealed under a previous key sealed again. Each is replaced only
 * while still the value read, so a run beside another API process changes nothing twice.
 */
export async function resealEndpointSecrets(deps: Pick<ServiceDeps, 'store' | 'eventSecrets'>): Promise<ResealedSecrets> {
  const done: ResealedSecrets = { sealed: 0, resealed: 0, unopenable: [] };
  if (!deps.eventSecrets) return done;
  for (const e of await endpointSecrets(deps.store)) {
    let next: string | undefined;
    try {
      next = deps.eventSecrets.resealed(e.secret, e._id);
    } catch (err) {
      if (!(err instanceof SecretUnavailableError)) throw err;
      done.unopenable.push(e._id);
      continue;
    }
    if (next !== undefined && (await replaceEndpointSecret(deps.store, e._id, e.secret, next))) done[isSealed(e.secret) ? 'resealed' : 'sealed']++;
  }
  return done;
}
