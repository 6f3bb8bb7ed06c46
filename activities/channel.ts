import { ApplicationFailure, log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Twilio } from 'twilio';
import type { BusinessRegistry, Channel } from '../domain/business';
import type { DeferralReason } from '../domain/request-policy';
import { readBlocked } from '../store/blocks';
import { recordJourneyBegin, type JourneyBegin } from '../store/journeys';
import type { ContactDoc, Store } from '../store/models';
import { claimOutbox, recordUnsentSend } from '../store/outbox';
import { FailureType } from '../workflows/failures';
import { createAmbiguousSends } from './ambiguous-send';
import { requireBusiness } from './business';
import { createComposer } from './compose';
import type { MetaClient } from './providers/meta';
import { createProviderCall } from './provider-call';
import { deferralOf } from './request-policy';
import { ALWAYS_SENT, OPTED_OUT_REASON } from './send-gate';

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
  /**
   * An opt-out confirmation whose opt-out found none of the contact's sends at the provider once its
   * block document was written: no send can pass the fence after that, so there is none to wait for.
   */
  noSendsAtProvider?: boolean;
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

/** How long after a send's outcome became unknown its retry asks the provider (its status callback may come first). */
const AMBIGUOUS_SETTLE_MS = 5_000;

export function createChannelActivities(deps: ChannelDeps) {
  const { store, twilio, businesses } = deps;
  const composer = createComposer(deps);
  const ambiguous = createAmbiguousSends({ store, twilio, settleMs: AMBIGUOUS_SETTLE_MS });
  const { callProvider, fromRow, afterSendsAtProvider, leftBehind } = createProviderCall(deps, ambiguous);

  /**
   * The send gate before the claim: why it refuses this send right now, if it does, and the contact it
   * read (or the journey's begin wrote and answered), which the request policy reuses. Only a send under the request policy reads the contact (an
   * opt-out flag there refuses at once). The block document is read by the fence right before the
   * provider call (enterSendFence), which an opt-out cannot slip past; a blocked contact's send is
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

    if (input.purpose === 'optout_confirmation' && !input.noSendsAtProvider) await afterSendsAtProvider(input);
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

  return { send };
}

export type ChannelActivities = ReturnType<typeof createChannelActivities>;
