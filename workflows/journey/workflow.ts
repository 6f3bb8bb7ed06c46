import {
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChannelActivities, SendInput, SendResult } from '../../activities/channel';
import type { ConsentActivities, RequestProof } from '../../activities/consent';
import { OptinChannel, OptinStatus } from '../search-attributes';
import {
  cancelJourneyUpdate,
  contactAnsweredSignal,
  ivrNoAnswerSignal,
  journeyIdOf,
  journeyStateQuery,
  optedOutSignal,
  providerStatusSignal,
  submitFormUpdate,
  type ContactAnswer,
  type FormSubmission,
  type JourneyInput,
  type JourneyState,
  type JourneyStatus,
} from './contract';
import { SEND_ACTIVITY_OPTIONS, STORE_ACTIVITY_OPTIONS } from '../activity-options';

const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
const consent = proxyActivities<ConsentActivities>(STORE_ACTIVITY_OPTIONS);

const FAILED_DELIVERY = new Set(['failed', 'undelivered', 'no-answer', 'busy', 'canceled']);

export async function journeyWorkflow(input: JourneyInput): Promise<JourneyState> {
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const runId = info.firstExecutionRunId;
  const journeyId = journeyIdOf(workflowId, runId);
  const now = () => new Date(Date.now()).toISOString();

  const state: JourneyState = {
    journeyId,
    businessId: input.businessId,
    contactId: input.contactId,
    campaignId: input.campaignId,
    categories: input.categories,
    status: 'active',
    stepIndex: 0,
    channel: input.plan[0].channel,
    attempts: 0,
    events: [],
  };

  let answer: ContactAnswer | undefined;
  let optedOut = false;
  let cancelled: { reason?: string } | undefined;
  let clarifyPending = false;
  let stepFailed = false;
  let callEnded = false;
  let currentProviderIds = new Set<string>();
  // A failed delivery or an unanswered call can be reported before the send's result reaches the
  // workflow (signals are applied before activity results in the same task): keep every report.
  const failedDeliveries = new Set<string>();
  const unansweredCalls = new Set<string>();
  const keepEarlyReports = patched('journey-early-provider-reports');
  const usedFormTokens = new Set<string>();
  const ended = () => state.status !== 'active';
  const decided = () => answer !== undefined || optedOut || cancelled !== undefined;

  setHandler(journeyStateQuery, () => state);

  setHandler(contactAnsweredSignal, (a) => {
    state.events.push({ at: a.receivedAt, direction: 'received', kind: a.method, channel: a.channel, providerId: a.providerId, detail: a.decision });
    if (ended() || decided()) return;
    if (a.decision === 'other') clarifyPending = true;
    else if (a.decision === 'opt_out') optedOut = true;
    else answer = a;
  });

  // Twilio may deliver a status callback more than once; the journey notes each status of a message once.
  const seenStatuses = new Set<string>();
  setHandler(providerStatusSignal, (s) => {
    const seen = `${s.providerId}/${s.status}`;
    if (seenStatuses.has(seen)) return;
    seenStatuses.add(seen);
    state.events.push({ at: s.receivedAt, direction: 'note', kind: `status:${s.status}`, providerId: s.providerId, detail: s.errorCode ? `error ${s.errorCode}` : undefined });
    if (FAILED_DELIVERY.has(s.status)) failedDeliveries.add(s.providerId);
    if (FAILED_DELIVERY.has(s.status) && currentProviderIds.has(s.providerId)) stepFailed = true;
  });

  setHandler(ivrNoAnswerSignal, (e) => {
    state.events.push({ at: e.at, direction: 'received', kind: 'ivr_no_answer', channel: 'ivr', providerId: e.callSid });
    unansweredCalls.add(e.callSid);
    if (currentProviderIds.has(e.callSid)) callEnded = true;
  });

  setHandler(optedOutSignal, (e) => {
    state.events.push({ at: e.at, direction: 'received', kind: 'opted_out', detail: e.optOutId });
    if (!ended()) optedOut = true;
  });

  setHandler(
    cancelJourneyUpdate,
    async ({ reason }) => {
      if (!decided()) cancelled = { reason };
      await condition(ended);
      return state;
    },
    {
      validator: (_request: { reason?: string }) => {
        if (ended()) throw new Error(`journey already ended as ${state.status}`);
      },
    },
  );

  setHandler(
    submitFormUpdate,
    async (form) => {
      if (usedFormTokens.has(form.tokenId) || decided()) return { accepted: false, reason: 'this link was already used' };
      usedFormTokens.add(form.tokenId);
      const kept = form.categories.filter((c) => input.categories.includes(c));
      const decision = form.decision === 'confirm' && kept.length > 0 ? 'confirm' : 'decline';
      state.events.push({ at: form.submittedAt, direction: 'received', kind: 'email_form', channel: 'email', detail: decision });
      answer = {
        decision,
        channel: 'email',
        method: 'email_form',
        receivedAt: form.submittedAt,
        categories: kept,
        payload: { form: { decision: form.decision, categories: form.categories }, ip: form.ip, userAgent: form.userAgent, shownText: form.shownText },
      };
      await condition(ended);
      return { accepted: true, status: state.status };
    },
    {
      validator: (form: FormSubmission) => {
        if (!form.tokenId) throw new Error('tokenId is required');
        if (ended()) throw new Error(`journey already ended as ${state.status}`);
      },
    },
  );

  const baseSend = (): Omit<SendInput, 'idempotencyKey' | 'purpose' | 'channel'> => ({
    businessId: input.businessId,
    contactId: input.contactId,
    phone: input.contact.phone,
    email: input.contact.email,
    locale: input.contact.locale,
    categories: input.categories,
    journeyId,
    workflowId,
    runId,
    step: state.stepIndex,
  });

  const noteSent = (purpose: string, channel: string, r: SendResult) => {
    state.events.push({ at: r.at, direction: 'sent', kind: `${purpose}:${r.outcome}`, channel, step: state.stepIndex, providerId: r.providerId, detail: r.errorCode ? `error ${r.errorCode}` : (r.mode ?? r.reason) });
  };

  await consent.beginJourney({ ...input, journeyId, workflowId, runId });

  const planMs = input.plan.reduce((sum, s) => sum + s.waitForMs, 0);
  const linksValidUntil = Date.now() + planMs;
  let lastRequest: RequestProof | undefined;

  steps: for (let i = 0; i < input.plan.length; i++) {
    const step = input.plan[i];
    state.stepIndex = i;
    state.channel = step.channel;
    upsertSearchAttributes([{ key: OptinChannel, value: step.channel }]);
    stepFailed = false;
    callEnded = false;
    clarifyPending = false;
    let clarified = false;

    const request = await send({ ...baseSend(), step: i, channel: step.channel, purpose: 'request', idempotencyKey: `${workflowId}/${runId}/step${i}/request`, linksValidUntil });
    state.attempts++;
    noteSent('request', step.channel, request);
    if (request.outcome === 'refused') {
      optedOut = true;
      break;
    }
    if (request.outcome === 'failed') {
      log.info('request failed at the provider; moving to the next step', { step: i, errorCode: request.errorCode });
      continue;
    }
    currentProviderIds = new Set(request.providerId ? [request.providerId] : []);
    if (keepEarlyReports && request.providerId) {
      if (failedDeliveries.has(request.providerId)) stepFailed = true;
      if (unansweredCalls.has(request.providerId)) callEnded = true;
    }
    lastRequest = { channel: step.channel, shown: request.shown, providerId: request.providerId, mode: request.mode, requestedAt: request.at };

    const stepStart = Date.now();
    const deadline = stepStart + step.waitForMs;
    const reminders = [...step.remindAfterMs].filter((ms) => ms < step.waitForMs).sort((a, b) => a - b);
    let nextReminder = 0;
    state.nextDeadline = new Date(deadline).toISOString();

    for (;;) {
      const wakeAt = nextReminder < reminders.length ? stepStart + reminders[nextReminder] : deadline;
      const remindersLeft = () => nextReminder < reminders.length;
      const woke = await condition(
        () => decided() || stepFailed || clarifyPending || (callEnded && !remindersLeft()),
        Math.max(1, wakeAt - Date.now()),
      );
      if (decided()) break steps;
      if (stepFailed) break;
      if (callEnded && !remindersLeft()) break;
      if (clarifyPending) {
        clarifyPending = false;
        if (!clarified && (step.channel === 'sms' || step.channel === 'whatsapp')) {
          clarified = true;
          const r = await send({ ...baseSend(), step: i, channel: step.channel, purpose: 'clarify', idempotencyKey: `${workflowId}/${runId}/step${i}/clarify` });
          noteSent('clarify', step.channel, r);
        }
        continue;
      }
      if (!woke) {
        if (!remindersLeft()) break;
        const k = nextReminder++;
        const r = await send({ ...baseSend(), step: i, channel: step.channel, purpose: 'reminder', idempotencyKey: `${workflowId}/${runId}/step${i}/reminder${k}`, linksValidUntil });
        state.attempts++;
        noteSent('reminder', step.channel, r);
        if (r.outcome === 'refused') {
          optedOut = true;
          break steps;
        }
        if (r.providerId) currentProviderIds.add(r.providerId);
        callEnded = false;
        if (keepEarlyReports && r.providerId) {
          if (failedDeliveries.has(r.providerId)) stepFailed = true;
          if (unansweredCalls.has(r.providerId)) callEnded = true;
        }
      }
    }
  }
  state.nextDeadline = undefined;

  let status: JourneyStatus = 'expired';
  let reason: string | undefined;
  let confirmedCategories: string[] | undefined;
  if (cancelled) {
    status = 'cancelled';
    reason = cancelled.reason;
  } else if (optedOut) {
    status = 'opted_out';
  } else if (answer) {
    // An answer with no request on record (every send failed or was ambiguous) still counts: the contact acted.
    const request = lastRequest ?? { channel: answer.channel, requestedAt: input.requestedAt };
    const recordInput = { journeyId, workflowId, runId, businessId: input.businessId, contactId: input.contactId, phone: input.contact.phone, categories: input.categories, answer, request };
    if (answer.decision === 'confirm') {
      const written = await consent.recordConsent(recordInput);
      confirmedCategories = written.categories;
      const confirmation = await send({ ...baseSend(), categories: written.categories, channel: 'whatsapp', purpose: 'confirmation', idempotencyKey: `${workflowId}/${runId}/confirmation` });
      noteSent('confirmation', 'whatsapp', confirmation);
      await consent.recordConfirmationSent({ journeyId, businessId: input.businessId, contactId: input.contactId, phone: input.contact.phone, categories: written.categories, providerId: confirmation.providerId, outcome: confirmation.outcome, shown: confirmation.shown, at: confirmation.at });
      status = 'confirmed';
    } else {
      await consent.recordDecline(recordInput);
      status = 'declined';
    }
  }

  state.status = status;
  state.outcome = { status: status, reason, categories: confirmedCategories, at: now() };
  upsertSearchAttributes([{ key: OptinStatus, value: state.status }]);
  await consent.finishJourney(state);
  await condition(allHandlersFinished);
  return state;
}
