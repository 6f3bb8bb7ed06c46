/**
 * The provider side of a send: the call to Twilio, SMTP or Meta under the send fence, what it answered
 * recorded on the outbox row, and the row read back as the send's result.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { CARRIER_UNSUBSCRIBED_CODES } from '../domain/provider-codes';
import { enterSendFence, leaveSendFence, waitForSendsAtProvider } from '../store/blocks';
import { finishOutbox, markAmbiguous, type OutboxRow } from '../store/outbox';
import { FailureType } from '../workflows/failures';
import type { AmbiguousSends } from './ambiguous-send';
import { requireBusiness } from './business';
import type { ChannelDeps, SendInput, SendResult } from './channel';
import type { Outgoing } from './compose';
import { startCarrierOptOut } from './optout';
import { classifyProviderError } from './provider-errors';
import { ALWAYS_SENT, OPTED_OUT_REASON } from './send-gate';

/** How long the opt-out confirmation waits for earlier sends: inside the send's 30 s start-to-close, with room for the provider call itself. */
const CONFIRMATION_WAITS_FOR_SENDS_MS = 12_000;

export function createProviderCall(deps: ChannelDeps, ambiguous: AmbiguousSends) {
  const { store, twilio, mailer, businesses, meta } = deps;

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

  async function fromRow(input: SendInput, r: OutboxRow): Promise<SendResult> {
    if (r.status === 'failed' && r.errorCode != null && CARRIER_UNSUBSCRIBED_CODES.has(r.errorCode)) await startCarrierOptOut(store, requireBusiness(businesses, input.businessId), input, r.errorCode, r.reason ?? '');
    return { outcome: r.status as SendResult['outcome'], providerId: r.providerId ?? undefined, errorCode: r.errorCode ?? undefined, reason: r.reason ?? undefined, shown: r.shown ?? undefined, at: new Date(r.sentAt ?? r.updatedAt ?? Date.now()).toISOString() };
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

  return { callProvider, fromRow, afterSendsAtProvider, leftBehind };
}
