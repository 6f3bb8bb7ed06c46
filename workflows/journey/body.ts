import { allHandlersFinished, condition, log, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities, SendInput, SendResult } from '../../activities/channel';
import type { RequestProof } from '../../activities/consent';
import type { JourneyCode } from './code';
import { OptinChannel } from '../search-attributes';
import { FAILED_DELIVERY_STATUSES, ivrNoAnswerSignal, submitFormUpdate, type ContactAnswer, type FormSubmission, type JourneyInput, type JourneyState } from './contract';
import { LOCAL_SEND_ACTIVITY_OPTIONS, SEND_ACTIVITY_OPTIONS } from '../activity-options';
import { requestWaitsForPolicy } from '../../domain/request-policy';
import { sendWhenAllowed } from './deferral';
import { recordConfirmed } from './confirm';
import { CarriedOptOuts } from './carried-optouts';
import { currentJourneyRun, handleJourneyEndings, handleJourneyReports, noteSent, settleJourney, type JourneyHooks, type JourneySendBase } from './run';

const { send: sendActivity } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
const { send: sendInTask } = proxyLocalActivities<ChannelActivities>(LOCAL_SEND_ACTIVITY_OPTIONS);

const FAILED_DELIVERY = FAILED_DELIVERY_STATUSES;

/** A journey: asks, waits for the answer (reminding and escalating), then records it and confirms. */
export async function runJourney(input: JourneyInput, code: JourneyCode): Promise<JourneyState> {
  const { workflowId, runId, journeyId } = currentJourneyRun();

  const state: JourneyState = {
    journeyId,
    businessId: input.businessId,
    contactId: input.contactId,
    campaignId: input.campaignId,
    ...(input.campaignRow !== undefined ? { campaignRow: input.campaignRow } : {}),
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
  const { keepEarlyReports, leanStart, policed, storeSteps, oneStepConfirm } = code;
  const send = code.sendsInTask ? sendInTask : sendActivity;
  const usedFormTokens = new Set<string>();
  const ended = () => state.status !== 'active';
  const decided = () => answer !== undefined || optedOut || cancelled !== undefined;
  const carried = new CarriedOptOuts();

  const hooks: JourneyHooks = {
    ended,
    decided,
    answered: (a) => {
      if (a.decision === 'other') clarifyPending = true;
      else if (a.decision === 'opt_out') optedOut = true;
      else answer = a;
    },
    statusReported: (s) => {
      if (FAILED_DELIVERY.has(s.status)) failedDeliveries.add(s.providerId);
      if (FAILED_DELIVERY.has(s.status) && currentProviderIds.has(s.providerId)) stepFailed = true;
    },
    optedOut: () => {
      optedOut = true;
    },
    carried: (step) => {
      if (code.carriesOptOuts) carried.add(step);
    },
    cancelled: (reason) => {
      cancelled = { reason };
    },
  };
  handleJourneyReports(state, hooks);

  setHandler(ivrNoAnswerSignal, (e) => {
    state.events.push({ at: e.at, direction: 'received', kind: 'ivr_no_answer', channel: 'ivr', providerId: e.callSid });
    unansweredCalls.add(e.callSid);
    if (currentProviderIds.has(e.callSid)) callEnded = true;
  });

  handleJourneyEndings(state, hooks);

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

  const baseSend = (): JourneySendBase => ({
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

  const waitsForPolicy = (step: number, purpose: 'request' | 'reminder') => policed && requestWaitsForPolicy(input.source?.kind, step, purpose);
  const requestPolicy = { timezone: input.contact.timezone };
  if (!leanStart) await storeSteps().beginJourney({ ...input, journeyId, workflowId, runId });
  const channelAtStart = workflowInfo().typedSearchAttributes.get(OptinChannel);

  const planMs = input.plan.reduce((sum, s) => sum + s.waitForMs, 0);
  let linksValidUntil = Date.now() + planMs;
  const planLeftMs = (from: number) => input.plan.slice(from).reduce((sum, s) => sum + s.waitForMs, 0);
  let lastRequest: RequestProof | undefined;

  steps: for (let i = 0; i < input.plan.length; i++) {
    const step = input.plan[i];
    state.stepIndex = i;
    state.channel = step.channel;
    const first = leanStart && i === 0;
    if (!(first && channelAtStart === step.channel)) upsertSearchAttributes([{ key: OptinChannel, value: step.channel }]);
    stepFailed = false;
    callEnded = false;
    clarifyPending = false;
    let clarified = false;

    const begin = first ? { begin: { ...input, journeyId, workflowId, runId, ...(code.carriesOptOuts ? { carriesOptOuts: true } : {}) } } : {};
    const requestInput = () => ({ ...baseSend(), step: i, channel: step.channel, purpose: 'request' as const, idempotencyKey: `${workflowId}/${runId}/step${i}/request`, linksValidUntil, ...begin });
    let request: SendResult;
    if (waitsForPolicy(i, 'request')) {
      // A request held back moves the rest of the plan with it, so its links must last that much longer.
      const sent = await sendWhenAllowed(state, { input: () => ({ ...requestInput(), requestPolicy }), stop: decided, via: send, onDeferred: (until) => (linksValidUntil = Math.max(linksValidUntil, until + planLeftMs(i))) });
      if (!sent) break steps;
      request = sent;
    } else {
      request = await send(requestInput());
    }
    state.attempts++;
    noteSent(state, 'request', step.channel, request);
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

    // The wait counts from the request's send. A local activity's result comes in the workflow task
    // it began in, whose clock stands at the task's start: the send's own time says when it went.
    const stepStart = code.sendsInTask ? Math.max(Date.now(), Date.parse(request.at) || 0) : Date.now();
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
          noteSent(state, 'clarify', step.channel, r);
        }
        continue;
      }
      if (!woke) {
        if (!remindersLeft()) break;
        const k = nextReminder++;
        const reminderInput = (): SendInput & { purpose: 'reminder' } => ({ ...baseSend(), step: i, channel: step.channel, purpose: 'reminder', idempotencyKey: `${workflowId}/${runId}/step${i}/reminder${k}`, linksValidUntil });
        let r: SendResult;
        if (waitsForPolicy(i, 'reminder')) {
          // A reminder that could only go after the step's deadline is dropped: the deadline comes first.
          const sent = await sendWhenAllowed(state, { input: () => ({ ...reminderInput(), requestPolicy }), stop: () => decided() || stepFailed, notAfter: deadline, via: send });
          if (!sent) {
            if (decided()) break steps;
            if (stepFailed) break;
            continue;
          }
          r = sent;
        } else {
          r = await send(reminderInput());
        }
        state.attempts++;
        noteSent(state, 'reminder', step.channel, r);
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

  // The opt-out's step beside the journey's own end, in the same task; one that comes later still runs.
  const honouring = carried.run();
  await settleJourney(state, storeSteps, { cancelled, optedOut }, async () => {
    if (!answer) return undefined;
    // An answer with no request on record (every send failed or was ambiguous) still counts: the contact acted.
    const request = lastRequest ?? { channel: answer.channel, requestedAt: input.requestedAt };
    const origin = { source: input.source, campaignId: input.campaignId, actor: input.actor };
    const recordInput = { journeyId, workflowId, runId, businessId: input.businessId, contactId: input.contactId, phone: input.contact.phone, categories: input.categories, answer, request, origin };
    if (answer.decision === 'confirm') return recordConfirmed(state, baseSend(), recordInput, storeSteps, oneStepConfirm ? (code.sendsInTask ? 'local' : 'activity') : 'separate');
    await storeSteps().recordDecline(recordInput);
    return { status: 'declined' };
  });
  await condition(allHandlersFinished);
  await honouring;
  await carried.run();
  return state;
}
