import { ApplicationFailure, log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Twilio } from 'twilio';
import type { BusinessRegistry, Channel } from '../domain/business';
import { CARRIER_UNSUBSCRIBED_CODES } from '../domain/provider-codes';
import type { DeferralReason } from '../domain/request-policy';
import { enterSendFence, leaveSendFence, readBlocked, waitForSendsAtProvider } from '../store/blocks';
import { recordJourneyBegin, type JourneyBegin } from '../store/journeys';
import type { ContactDoc, Store } from '../store/models';
import { claimOutbox, finishOutbox, markAmbiguous, recordUnsentSend, type OutboxRow } from '../store/outbox';
import { FailureType } from '../workflows/failures';
import { createAmbiguousSends } from './ambiguous-send';
import { requireBusiness } from './business';
import { createComposer, type Outgoing } from './compose';
import type { MetaClient } from './providers/meta';
import { startCarrierOptOut } from './optout';
import { classifyProviderError } from './provider-errors';
import { deferralOf } from './request-policy';

export interface ChannelDeps {
  store: Store;
  twilio: Twilio;
  /** The WhatsApp Cloud API, when some business sends WhatsApp through Meta. */
  meta?: MetaClient;
  mailer: Transporter;
  businesses: BusinessRegistry;
  publicBaseUrl: string;
  pageTokenSecret: string;
}

export type SendPurpose =
  | 'request'
  | 'reminder'
  | 'clarify'
  | 'confirmation'
  | 'optout_confirmation'
  | 'help'
  | 'resume_confirmation'
  | 'category_question'
  | 'category_clarify';

export interface SendInput {
  idempotencyKey: string;
  purpose: SendPurpose;
  channel: Channel;
  businessId: string;
  contactId: string;
  phone: string;
  email?: string;
  locale?: string;
  categories: string[];
  journeyId?: string;
  workflowId?: string;
  runId?: string;
  step?: number;
  /** Until when links in this message stay valid (epoch ms). */
  linksValidUntil?: number;
  /**
   * A journey's first request carries what the journey writes as it begins, so beginning costs no
   * workflow task and no action of its own; the write comes before the send gate reads the contact.
   */
  begin?: JourneyBegin;
  /**
   * Set by journeys on opt-in requests (request, reminder) that wait for the business's quiet hours
   * and frequency cap: outside them nothing is sent and the answer is `deferred`. With the contact's own zone.
   */
  requestPolicy?: { timezone?: string };
}

export interface SendResult {
  outcome: 'sent' | 'failed' | 'refused' | 'ambiguous' | 'deferred';
  providerId?: string;
  errorCode?: number;
  reason?: string;
  /** Exactly what the contact was shown (text, rendered template or TwiML). */
  shown?: string;
  mode?: 'template' | 'session';
  /** `deferred`: when the request may go (ISO) and why not now. */
  deferred?: { until: string; reason: DeferralReason };
  at: string;
}

/** Twilio errors after which this channel cannot reach the contact; the journey moves on at once. */
export const UNREACHABLE_CODES = new Set([21211, 21214, 21610, 21612, 21614, 30003, 30005, 30006, 63003, 63016, 63024]);
const OPTED_OUT_REASON = 'contact opted out: only the opt-out confirmation and answers to HELP may be sent';
/**
 * Sends the gate lets through to an opted-out contact: the one opt-out confirmation, and the answer
 * to the contact's own HELP, which carriers expect answered always (it names the business and how to
 * opt back in; it asks for nothing).
 */
const ALWAYS_SENT: ReadonlySet<SendInput['purpose']> = new Set(['optout_confirmation', 'help']);

/** How long the opt-out confirmation waits for earlier sends: inside the send's 30 s start-to-close, with room for the provider call itself. */
const CONFIRMATION_WAITS_FOR_SENDS_MS = 12_000;

/** How long after a send's outcome became unknown its retry asks the provider (its status callback may come first). */
const AMBIGUOUS_SETTLE_MS = 5_000;

export function createChannelActivities(deps: ChannelDeps) {
  const { store, twilio, mailer, businesses, meta } = deps;
  const composer = createComposer(deps);
  const ambiguous = createAmbiguousSends({ store, twilio, settleMs: AMBIGUOUS_SETTLE_MS });

  async function dispatch(outgoing: Outgoing): Promise<string> {
    switch (outgoing.kind) {
      case 'message':
        return (await twilio.messages.create(outgoing.params)).sid;
      case 'call':
        return (await twilio.calls.create(outgoing.params)).sid;
      case 'email':
        return (await mailer.sendMail(outgoing.mail)).messageId;
      case 'meta':
        if (!meta) throw ApplicationFailure.create({ type: FailureType.ProviderNotConfigured, message: 'a business sends WhatsApp through Meta, but META_ACCESS_TOKEN is not set on this worker', nonRetryable: true });
        return (await meta.send(outgoing.request)).wamid;
    }
  }

  /**
   * The send gate before the claim: why it refuses this send right now, if it does, and the contact it
   * read (or the journey's begin wrote and answered), which the request policy reuses. Only a send under the request policy reads the contact (an
   * opt-out flag there refuses at once). Both records of the block are read by the fence right before
   * the provider call (enterSendFence), which an opt-out cannot slip past; a blocked contact's send is
   * refused there after its claim, with the same outcome and its row marked refused.
   * Always-sent purposes read nothing.
   */
  async function gate(input: SendInput, begun?: { contact: ContactDoc | null }): Promise<{ refused?: string; contact: ContactDoc | null }> {
    if (ALWAYS_SENT.has(input.purpose) || !input.requestPolicy) return { contact: null };
    const contact = begun ? begun.contact : await store.contacts.findById(input.contactId).lean();
    return { refused: contact?.messaging === 'opted_out' ? OPTED_OUT_REASON : undefined, contact };
  }

  /** Why a resend of an ambiguous send must not go, by both records of the block. */
  async function refusedNow(input: SendInput): Promise<string | undefined> {
    if (ALWAYS_SENT.has(input.purpose)) return undefined;
    return (await readBlocked(store, input.contactId)) ? OPTED_OUT_REASON : undefined;
  }

  async function fromRow(input: SendInput, r: OutboxRow): Promise<SendResult> {
    if (r.status === 'failed' && r.errorCode != null && CARRIER_UNSUBSCRIBED_CODES.has(r.errorCode)) await startCarrierOptOut(store, requireBusiness(businesses, input.businessId), input, r.errorCode, r.reason ?? '');
    return { outcome: r.status as SendResult['outcome'], providerId: r.providerId ?? undefined, errorCode: r.errorCode ?? undefined, reason: r.reason ?? undefined, shown: r.shown ?? undefined, at: new Date(r.sentAt ?? r.updatedAt ?? Date.now()).toISOString() };
  }

  /**
   * The one way anything reaches a contact. The send fence re-reads consent right before the provider
   * call; the outbox row claimed first makes a retried activity send at most once per claim, and a
   * send whose outcome is unknown is settled (found, sent again, or given up) by the next attempt.
   */
  async function send(input: SendInput): Promise<SendResult> {
    const business = requireBusiness(businesses, input.businessId);
    // The journey's first send writes the contact as it begins and reads it back in the same command.
    const begun = input.begin ? { contact: await recordJourneyBegin(store, input.begin) } : undefined;
    const to = input.channel === 'email' ? (input.email ?? '') : input.phone;
    const row = { _id: input.idempotencyKey, businessId: input.businessId, contactId: input.contactId, journeyId: input.journeyId, channel: input.channel, purpose: input.purpose, to };

    const { refused, contact } = await gate(input, begun);
    if (refused) {
      await recordUnsentSend(store, { ...row, status: 'refused', reason: refused });
      log.info('send refused by the send gate', { key: input.idempotencyKey, purpose: input.purpose });
      return { outcome: 'refused', reason: refused, at: new Date().toISOString() };
    }
    if (input.requestPolicy && (input.purpose === 'request' || input.purpose === 'reminder')) {
      const deferral = await deferralOf(store, business, { ...input, timezone: input.requestPolicy.timezone }, contact);
      if (deferral) return { outcome: 'deferred', deferred: { until: new Date(deferral.until).toISOString(), reason: deferral.reason }, at: new Date().toISOString() };
    }
    if (input.channel === 'email' && !input.email) {
      const failure = ApplicationFailure.create({ type: FailureType.MissingEmail, message: 'the contact has no e-mail address', nonRetryable: true });
      await recordUnsentSend(store, { ...row, status: 'failed', reason: failure.message });
      throw failure;
    }

    if (input.purpose === 'optout_confirmation') await afterSendsAtProvider(input);
    const outgoing = await composer.compose(input, business);
    const viaMeta = outgoing.kind === 'meta' ? { provider: 'meta' as const, template: outgoing.template } : {};
    const claim = await claimOutbox(store, { ...row, shown: outgoing.shown, ...viaMeta });
    if (claim.kind === 'finished') return fromRow(input, await leftBehind(input, claim.row));
    if (claim.kind === 'ambiguous') {
      const settled = await ambiguous.settle(claim.row, outgoing, () => refusedNow(input));
      if (settled.kind === 'finished') return fromRow(input, await leftBehind(input, settled.row));
      if (settled.kind === 'result') return (await leftBehind(input, settled)).result;
    }
    return callProvider(input, outgoing);
  }

  /** Calls the provider for a claimed row and records what it answered. */
  async function callProvider(input: SendInput, outgoing: Outgoing): Promise<SendResult> {
    // The gate's last word, atomic with the block: either this send is registered as at the provider
    // (and an opt-out waits for it before acknowledging), or the contact is blocked and nothing is sent.
    const fenced = !ALWAYS_SENT.has(input.purpose);
    if (fenced) {
      const entered = await enterSendFence(store, input.contactId, input.idempotencyKey).catch(async (err: Error) => {
        // Nothing reached the provider: release the claim so the retry may send.
        await finishOutbox(store, input.idempotencyKey, { status: 'released', reason: err.message }).catch(() => undefined);
        throw err;
      });
      if (!entered) {
        await finishOutbox(store, input.idempotencyKey, { status: 'refused', reason: OPTED_OUT_REASON });
        log.info('send refused by the send gate after claiming', { key: input.idempotencyKey, purpose: input.purpose });
        return { outcome: 'refused', reason: OPTED_OUT_REASON, at: new Date().toISOString() };
      }
    }

    let sent: { providerId: string; left: boolean };
    try {
      sent = await dispatchFenced(input, outgoing, fenced);
    } catch (err) {
      if (err instanceof ApplicationFailure) {
        await finishOutbox(store, input.idempotencyKey, { status: 'failed', reason: err.message });
        throw err;
      }
      const verdict = classifyProviderError(err);
      if (verdict.kind === 'retry') {
        await finishOutbox(store, input.idempotencyKey, { status: 'released', reason: verdict.detail });
        throw ApplicationFailure.create({ type: 'ProviderUnavailable', message: `provider unavailable, will retry: ${verdict.detail}` });
      }
      if (verdict.kind === 'ambiguous') {
        await markAmbiguous(store, input.idempotencyKey, verdict.detail);
        log.warn('provider outcome unknown; the next attempt looks it up before sending again', { key: input.idempotencyKey, detail: verdict.detail });
        const settled = await ambiguous.leftForRetry(input.idempotencyKey, verdict.detail);
        return settled.kind === 'finished' ? fromRow(input, settled.row) : settled.result;
      }
      await finishOutbox(store, input.idempotencyKey, { status: 'failed', errorCode: verdict.code, reason: verdict.detail });
      if (verdict.code !== undefined && CARRIER_UNSUBSCRIBED_CODES.has(verdict.code)) await startCarrierOptOut(store, requireBusiness(businesses, input.businessId), input, verdict.code, verdict.detail);
      return { outcome: 'failed', errorCode: verdict.code, reason: verdict.detail, at: new Date().toISOString() };
    }
    // Outside the provider's error handling: a store failure here is no provider verdict. The row stays
    // claimed, so the retry looks the message up instead of sending it again.
    await finishOutbox(store, input.idempotencyKey, { status: 'sent', providerId: sent.providerId, shown: outgoing.shown });
    // Sent and recorded, but the mark is still there: a failure here makes the retry (which finds the row finished) clear it.
    if (!sent.left) await leaveSendFence(store, input.contactId, input.idempotencyKey);
    return { outcome: 'sent', providerId: sent.providerId, shown: outgoing.shown, mode: outgoing.kind === 'message' || outgoing.kind === 'meta' ? outgoing.mode : undefined, at: new Date().toISOString() };
  }

  /**
   * The provider call, registered on the contact for exactly as long as it runs: an opt-out waits for
   * it. Leaving must not turn a delivered message into an error (a retry would send again): a failed
   * leave is reported instead, and tried again once the send is recorded.
   */
  async function dispatchFenced(input: SendInput, outgoing: Outgoing, fenced: boolean): Promise<{ providerId: string; left: boolean }> {
    let left = true;
    let providerId: string;
    try {
      providerId = await dispatch(outgoing);
    } finally {
      if (fenced) {
        left = await leaveSendFence(store, input.contactId, input.idempotencyKey).then(
          () => true,
          (err: Error) => (log.warn('could not clear the in-flight mark', { key: input.idempotencyKey, error: err.message }), false),
        );
      }
    }
    return { providerId, left };
  }

  /**
   * The opt-out confirmation is the last message the contact gets: it waits for any send that passed
   * the gate before the block to come back from the provider. A mark that outlasts the wait belongs to
   * an attempt that died before taking it back (its own retry or its age clears it); the confirmation
   * goes out regardless rather than leave the person without an answer.
   */
  async function afterSendsAtProvider(input: SendInput): Promise<void> {
    const still = await waitForSendsAtProvider(store, input.contactId, CONFIRMATION_WAITS_FOR_SENDS_MS);
    if (still > 0) log.warn('confirming the opt-out while sends are still registered at the provider', { key: input.idempotencyKey, inFlight: still });
  }

  /**
   * An earlier attempt of this send reached the provider and then lost the store before it could take
   * its in-flight mark back. The outcome is known now, so the mark goes: an opt-out waiting for this
   * send would otherwise wait until the mark expires.
   */
  async function leftBehind<T>(input: SendInput, settled: T): Promise<T> {
    if (!ALWAYS_SENT.has(input.purpose)) await leaveSendFence(store, input.contactId, input.idempotencyKey);
    return settled;
  }

  return { send };
}

export type ChannelActivities = ReturnType<typeof createChannelActivities>;
