import { activityInfo, ApplicationFailure, log, sleep } from '@temporalio/activity';
import type { Twilio } from 'twilio';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import { reportedSendOf } from '../store/delivery-reports';
import type { Store } from '../store/models';
import { adoptFoundSend, giveUpAmbiguous, providerIdsTakenByOthers, readOutbox, reclaimForResend, type OutboxRow, type ResolutionNote } from '../store/outbox';
import { SEND_MAX_ATTEMPTS } from '../workflows/activity-options';
import type { SendResult } from './channel';
import type { MessageParams, Outgoing } from './compose';

/**
 * Settles a send whose provider call may or may not have taken effect (a 5xx, a timeout, a worker that
 * died mid-call). It runs in the send activity's next attempt: after a short wait (for the provider's
 * status callback, which carries the outbox key), it looks the message or call up at the provider and
 * adopts what it finds; only when the provider has none does the send go out again, through the gate.
 * SMTP has no lookup: an e-mail goes out once more with the same Message-ID. docs/ambiguous-sends.md.
 */

export interface AmbiguousSendDeps {
  store: Store;
  twilio: Twilio;
  /** How long after the outcome became unknown the provider is asked (its callback may come first). */
  settleMs: number;
}

/** How far the provider's clock and the times it lists (whole seconds) may lag ours. */
const CLOCK_SKEW_MS = 2_000;
/** More than any lookup needs: sends go out again only after a lookup shows the provider has none. */
const MAX_RESENDS = 2;
/** E-mail cannot be looked up, so it goes out again once at most. */
const MAX_BLIND_RESENDS = 1;
const LISTED_AT_MOST = 50;
/**
 * Meta has no message list to ask. It reports every message it accepted in a `statuses` webhook (sent
 * or failed) within seconds, carrying our outbox key; one that stays silent this long after the call
 * was not taken, and only then is the message sent again (through the gate).
 */
export const META_SILENCE_MS = 30_000;

export type Settled =
  /** Settled by someone else meanwhile (a status callback): answer from the row. */
  | { kind: 'finished'; row: OutboxRow }
  /** The provider has no such send and the gate lets it through: the row is claimed again, send it. */
  | { kind: 'resend' }
  | { kind: 'result'; result: SendResult };

type Answered = Exclude<Settled, { kind: 'resend' }>;

type Lookup = { kind: 'found'; providerId: string; note: ResolutionNote } | { kind: 'absent'; note: ResolutionNote; blind: boolean };

/** Whether a listed message is the one we asked for: the same body, or the template we sent as rendered. */
function sameMessage(listedBody: string, params: MessageParams, shown: string): boolean {
  if (params.body !== undefined) return listedBody === shown;
  if (listedBody === shown) return true;
  // A template worded otherwise than our text (another locale's approval) still carries its variables.
  const values = Object.values(JSON.parse(params.contentVariables ?? '{}') as Record<string, string>);
  return values.length > 0 && values.every((v) => listedBody.includes(v));
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createAmbiguousSends({ store, twilio, settleMs }: AmbiguousSendDeps) {
  /** Messages or calls from the first claim of this key on, minus clock skew. */
  function windowStart(row: OutboxRow): number {
    const first = new Date(row.createdAt ?? row.claimedAt ?? Date.now()).getTime();
    return Math.floor(first / 1000) * 1000 - CLOCK_SKEW_MS;
  }

  async function pickUnclaimed(row: OutboxRow, candidates: { sid: string; dateCreated: Date }[], how: string): Promise<Lookup> {
    const taken = await providerIdsTakenByOthers(store, row, candidates.map((c) => c.sid));
    const mine = candidates.filter((c) => !taken.has(c.sid)).sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime())[0];
    if (mine) return { kind: 'found', providerId: mine.sid, note: { how, detail: `${mine.sid} created ${mine.dateCreated.toISOString()}` } };
    return { kind: 'absent', note: { how, detail: `no ${how === 'call_list' ? 'call' : 'message'} to the contact since ${new Date(windowStart(row)).toISOString()}` }, blind: false };
  }

  async function lookUp(row: OutboxRow, outgoing: Outgoing): Promise<Lookup> {
    const since = windowStart(row);
    if (outgoing.kind === 'message') {
      const { to, from } = outgoing.params;
      const shown = row.shown ?? outgoing.shown;
      const ours = (listed: MessageInstance[]) => listed.filter((m) => m.direction === 'outbound-api' && m.dateCreated.getTime() >= since && sameMessage(m.body, outgoing.params, shown));
      let candidates = ours(await twilio.messages.list({ to, from, dateSentAfter: new Date(since), limit: LISTED_AT_MOST }));
      // A message still queued has no sent date yet; before sending again, read the newest ones too.
      if (candidates.length === 0) candidates = ours(await twilio.messages.list({ to, from, limit: LISTED_AT_MOST }));
      return pickUnclaimed(row, candidates, 'message_list');
    }
    if (outgoing.kind === 'call') {
      const { to, from } = outgoing.params;
      const listed = await twilio.calls.list({ to, from, limit: LISTED_AT_MOST });
      return pickUnclaimed(row, listed.filter((c) => c.direction === 'outbound-api' && c.dateCreated.getTime() >= since), 'call_list');
    }
    if (outgoing.kind === 'meta') {
      const unknownSince = new Date(row.ambiguousAt ?? row.claimedAt ?? Date.now()).getTime();
      const silentFor = Date.now() - unknownSince;
      if (silentFor < META_SILENCE_MS) throw new Error(`no status webhook from Meta yet (${Math.round(silentFor / 1000)} s after the call); asking again later`);
      return { kind: 'absent', note: { how: 'status_webhook_silence', detail: `Meta reported nothing for this send within ${META_SILENCE_MS / 1000} s` }, blind: false };
    }
    return { kind: 'absent', note: { how: 'smtp_no_lookup', detail: 'SMTP cannot tell whether the relay kept the message; sent again with the same Message-ID' }, blind: true };
  }

  async function giveUp(row: OutboxRow, note: ResolutionNote, status: 'ambiguous' | 'refused' = 'ambiguous'): Promise<Answered> {
    await giveUpAmbiguous(store, row, note, status);
    log.warn('ambiguous send left unresolved', { key: row._id, how: note.how, detail: note.detail });
    const outcome = status === 'refused' ? 'refused' : 'ambiguous';
    return { kind: 'result', result: { outcome, reason: note.detail ?? note.how, at: new Date().toISOString() } };
  }

  async function adopt(row: OutboxRow, outgoing: Outgoing, providerId: string, note: ResolutionNote): Promise<Answered> {
    if (!(await adoptFoundSend(store, row, providerId, note))) return settledMeanwhile(row);
    log.info('ambiguous send found at the provider', { key: row._id, how: note.how });
    const mode = outgoing.kind === 'message' || outgoing.kind === 'meta' ? outgoing.mode : undefined;
    return { kind: 'result', result: { outcome: 'sent', providerId, shown: row.shown ?? outgoing.shown, mode, at: new Date().toISOString() } };
  }

  async function settledMeanwhile(row: OutboxRow): Promise<Answered> {
    const now = await readOutbox(store, row._id);
    if (!now) throw new Error(`outbox row ${row._id} vanished while resolving`);
    return { kind: 'finished', row: now };
  }

  /**
   * Decides an ambiguous row: adopt what the provider has, give up, or claim it again for one more
   * call. `blocked` re-reads consent; it is asked only right before a resend.
   */
  async function settle(claimed: OutboxRow, outgoing: Outgoing, blocked: () => Promise<string | undefined>): Promise<Settled> {
    const unknownSince = new Date(claimed.ambiguousAt ?? claimed.claimedAt ?? Date.now()).getTime();
    const wait = unknownSince + settleMs - Date.now();
    if (wait > 0) await sleep(wait);
    const row = await readOutbox(store, claimed._id);
    if (!row || row.status !== 'ambiguous') return settledMeanwhile(claimed);
    // A final status that came while the row was still claimed is kept, not applied to the row.
    const reported = await reportedSendOf(store, row._id);
    if (reported) return adopt(row, outgoing, reported, { how: 'status_callback', detail: `the provider reported ${reported}` });

    let found: Lookup;
    try {
      found = await lookUp(row, outgoing);
    } catch (err) {
      if (activityInfo().attempt < SEND_MAX_ATTEMPTS) throw ApplicationFailure.create({ type: 'ProviderUnavailable', message: `could not look the send up at the provider, will retry: ${describeError(err)}` });
      return giveUp(row, { how: 'attempts_exhausted', detail: `the provider could not be asked: ${describeError(err)}` });
    }
    if (found.kind === 'found') return adopt(row, outgoing, found.providerId, found.note);

    const resends = row.resolution?.resends ?? 0;
    if (resends >= (found.blind ? MAX_BLIND_RESENDS : MAX_RESENDS)) return giveUp(row, { how: found.note.how, detail: `still nothing after ${resends} resend(s): ${found.note.detail}` });
    const refusal = await blocked();
    if (refusal) return giveUp(row, { how: 'send_gate', detail: refusal }, 'refused');
    if (!(await reclaimForResend(store, row, found.note, outgoing.shown))) return settledMeanwhile(row);
    log.info('ambiguous send not at the provider; sending again', { key: row._id, how: found.note.how });
    return { kind: 'resend' };
  }

  /**
   * This attempt got no answer it can trust: the next one settles it. The last attempt has none after
   * it, so it gives up and the workflow hears `ambiguous`, as before sends were resolved.
   */
  async function leftForRetry(key: string, detail: string): Promise<Answered> {
    if (activityInfo().attempt < SEND_MAX_ATTEMPTS) throw ApplicationFailure.create({ type: 'SendAmbiguous', message: `provider outcome unknown, the next attempt looks it up: ${detail}` });
    const row = await readOutbox(store, key);
    if (!row) throw new Error(`outbox row ${key} vanished while resolving`);
    if (row.status !== 'ambiguous') return { kind: 'finished', row };
    return giveUp(row, { how: 'attempts_exhausted', detail });
  }

  return { settle, leftForRetry };
}

export type AmbiguousSends = ReturnType<typeof createAmbiguousSends>;
