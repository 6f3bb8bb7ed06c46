import { z } from 'zod';

/**
 * Who may do what through the API. A key has one role and a set of businesses (or all of them).
 * Roles are not a ladder: an agent key may opt a contact out but not start a campaign, a campaigns key
 * the other way round; every role may read.
 */
export const ROLES = ['admin', 'campaigns', 'agent', 'read'] as const;
export type Role = (typeof ROLES)[number];

/** A key as the API knows it: never the key itself. */
export interface ApiKeyGrant {
  /** Recorded in the ledger as the actor; request ids are scoped by it. */
  keyId: string;
  role: Role;
  /** '*' for every business the configuration names, now and later. */
  businesses: '*' | readonly string[];
}

export const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function mayActFor(grant: ApiKeyGrant, businessId: string): boolean {
  return grant.businesses === '*' || grant.businesses.includes(businessId);
}

/** The roles allowed on each kind of route (docs/keys.md has the table of routes). */
export const ALLOWED = {
  /** GET reads, reports, exports. */
  read: ['admin', 'campaigns', 'agent', 'read'],
  /** Agent opt-in in the chat and opt-outs on a contact's behalf. */
  agent: ['admin', 'agent'],
  /** Journeys, campaigns, bulk import. */
  campaigns: ['admin', 'campaigns'],
  /** A consent a person collected (paper form): both agents and campaign owners collect them. */
  collected: ['admin', 'campaigns', 'agent'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Allowed = keyof typeof ALLOWED;

/**
 * Who caused a ledger event. A key (with the agent and ticket the request named), the contact by their
 * own act on a channel (a YES, a STOP, a key press), the carrier (it refused a send: the recipient
 * unsubscribed there), or Optinflow itself (a confirmation it sent). For a contact's answer to a
 * request, `requestedBy` names the key that asked.
 */
export const ledgerActorSchema = z.object({
  kind: z.enum(['api_key', 'contact', 'carrier', 'system']),
  keyId: z.string().optional(),
  agentId: z.string().optional(),
  ticketId: z.string().optional(),
  channel: z.string().optional(),
  requestedBy: z.object({ keyId: z.string().optional(), agentId: z.string().optional(), ticketId: z.string().optional() }).optional(),
});
export type LedgerActor = z.infer<typeof ledgerActorSchema>;
export type KeyActor = LedgerActor & { kind: 'api_key' };

export function contactActor(channel: string, requestedBy?: LedgerActor): LedgerActor {
  if (requestedBy?.kind !== 'api_key') return { kind: 'contact', channel };
  const { keyId, agentId, ticketId } = requestedBy;
  return { kind: 'contact', channel, requestedBy: { ...(keyId ? { keyId } : {}), ...(agentId ? { agentId } : {}), ...(ticketId ? { ticketId } : {}) } };
}

export const SYSTEM_ACTOR: LedgerActor = { kind: 'system' };
