import { blockMessaging } from '../store/blocks';
import { optOutRecordedBefore, recordOptOutEvents } from '../store/optout-ledger';
import { dropPendingOptOut, keepPendingOptOut } from '../store/pending-optouts';
import type { OptOutInput } from '../workflows/optout/contract';
import { withinMs } from '../lib/within-ms';
import type { ServiceDeps } from './deps';

/** The store steps an opt-out takes before its answer, each bounded by the answer's deadline. */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a store step, asking again while the store refuses writes (FerretDB on SQLite: "database is locked") and time is left. */
export async function storeStepUntil<T>(deadline: number, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() > deadline - 100) throw err;
      await sleep(50);
    }
  }
}

const untilDeadline = (deadline: number) => Math.max(0, deadline - Date.now());

/**
 * True when no earlier delivery of this opt-out wrote its ledger events (one read by `_id`);
 * undefined when the store did not say in time.
 */
export async function firstDelivery(deps: ServiceDeps, input: OptOutInput & { optOutId: string }, deadline: number): Promise<boolean | undefined> {
  const business = deps.businesses.get(input.businessId);
  if (!business) return undefined;
  const asking = storeStepUntil(deadline, () => optOutRecordedBefore(deps.store, business, input)).then(
    (before) => !before,
    () => undefined,
  );
  return withinMs(asking, untilDeadline(deadline));
}

/**
 * Writes the opt-out's ledger events before the answer, so the STOP is in the ledger the moment it is
 * acknowledged. Idempotent by origin: the workflow's own write then finds them. Past the deadline, or
 * with the store refusing, the answer goes without them and the workflow writes them.
 */
export async function recordWithin(deps: ServiceDeps, input: OptOutInput & { optOutId: string }, deadline: number): Promise<boolean> {
  const business = deps.businesses.get(input.businessId);
  if (!business) return false;
  const recording = storeStepUntil(deadline, () => recordOptOutEvents(deps.store, business, input)).then(
    () => true,
    () => false,
  );
  return (await withinMs(recording, untilDeadline(deadline))) ?? false;
}

export type BlockStep = { block?: Awaited<ReturnType<typeof blockMessaging>>; err?: Error };

/** Blocks the contact and waits for its sends at the provider, both within the deadline. */
export function blockWithin(deps: ServiceDeps, input: OptOutInput, deadline: number, opts: { unblockedJustNow?: boolean } = {}): Promise<BlockStep> {
  const c = { businessId: input.businessId, contactId: input.contactId, phone: input.phone, at: new Date(input.receivedAt) };
  return withinMs(
    storeStepUntil(deadline, () => blockMessaging(deps.store, c, untilDeadline(deadline), opts)),
    untilDeadline(deadline),
  ).then(
    (block): BlockStep => ({ block }),
    (err: unknown): BlockStep => ({ err: err as Error }),
  );
}

export type StartResult = { ok: true; started: boolean } | { ok: false; err: unknown };

/**
 * Keeps the opt-out in the store for the sweep beside the acknowledgement's other writes, instead of
 * after waiting for Temporal; dropped again once `starting` lands. True when kept within the deadline.
 */
export function keepBeside(deps: ServiceDeps, optOutId: string, input: OptOutInput, starting: Promise<StartResult>, deadline: number): Promise<boolean> {
  const written = storeStepUntil(deadline, () => keepPendingOptOut(deps.store, optOutId, input)).then(
    () => true,
    () => false,
  );
  dropOnceStarted(deps, optOutId, written, starting);
  return withinMs(written, untilDeadline(deadline)).then((kept) => kept ?? false);
}

/** Drops a kept opt-out once its start lands, after the keep's write: a drop that overtook it would leave it for the sweep. */
function dropOnceStarted(deps: ServiceDeps, optOutId: string, kept: Promise<boolean>, starting: Promise<StartResult>): void {
  void Promise.all([kept, starting])
    .then(([k, start]) => (k && start.ok ? dropPendingOptOut(deps.store, optOutId) : undefined))
    .catch(() => undefined);
}

/**
 * Waits up to waitMs for Temporal to take the opt-out's workflow; past it (or refused) keeps the
 * opt-out in the store, where the sweep finds it, and drops it again if this start lands after all.
 * Answers the start as far as it got, and whether the opt-out was kept.
 */
export async function startOrKeep(deps: ServiceDeps, optOutId: string, input: OptOutInput, starting: Promise<StartResult>, waitMs: number): Promise<{ start?: StartResult; kept: boolean }> {
  const start = await withinMs(starting, waitMs);
  if (start?.ok) return { start, kept: false };
  try {
    await keepPendingOptOut(deps.store, optOutId, input);
  } catch (storeErr) {
    if (start && !start.ok) throw start.err;
    throw storeErr;
  }
  dropOnceStarted(deps, optOutId, Promise.resolve(true), starting);
  return { start, kept: true };
}
