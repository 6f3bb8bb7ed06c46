import { allHandlersFinished, condition, log, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities, SendInput, SendResult } from '../../activities/channel';
import type { ConsentActivities, RequestProof } from '../../activities/consent';
import type { InThreadActivities } from '../../activities/inthread';
import { parseCategoryChoice, type CategoryReply, type OfferedCategory } from '../../domain/category-choice';
import { SEND_ACTIVITY_OPTIONS, STORE_ACTIVITY_OPTIONS } from '../activity-options';
import {
  cancelJourneyUpdate,
  contactAnsweredSignal,
  journeyIdOf,
  journeyStateQuery,
  optedOutSignal,
  providerStatusSignal,
  type ContactAnswer,
  type JourneyState,
  type JourneyStatus,
} from '../journey/contract';
import { OptinStatus } from '../search-attributes';
import { IN_THREAD_SOURCE_KIND, type CategoryChoiceInput } from './contract';

const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
const consent = proxyActivities<ConsentActivities>(STORE_ACTIVITY_OPTIONS);
const inThread = proxyActivities<InThreadActivities>(STORE_ACTIVITY_OPTIONS);

/** A quick-reply tap arrives as the raw webhook's ButtonPayload; the text is the button's title. */
function replyOf(answer: ContactAnswer): CategoryReply {
  const payload = answer.payload?.ButtonPayload;
  return { text: answer.text, buttonPayload: typeof payload === 'string' && payload !== '' ? payload : undefined };
}

/**
 * Asks a contact who wrote START which categories they want, in the thread they wrote in, waits for
 * the answer (one clarification for a reply it cannot read), records one opt-in per chosen category
 * and confirms on WhatsApp. Runs under the contact's journey workflow id (see ./contract.ts).
 */
export async function categoryChoiceWorkflow(input: CategoryChoiceInput): Promise<JourneyState> {
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const runId = info.firstExecutionRunId;
  const journeyId = journeyIdOf(workflowId, runId);
  const now = () => new Date(Date.now()).toISOString();

  const state: JourneyState = {
    journeyId,
    businessId: input.businessId,
    contactId: input.contactId,
    categories: [],
    status: 'active',
    stepIndex: 0,
    channel: input.channel,
    attempts: 0,
    events: [{ at: input.start.receivedAt, direction: 'received', kind: 'in_thread_start', channel: input.channel, providerId: input.start.messageSid }],
  };

  // Replies wait here until the offered categories are known; a fast contact may answer before that.
  const replies: ContactAnswer[] = [];
  let choice: { categories: string[]; all: boolean; answer: ContactAnswer; buttonPayload?: string } | undefined;
  let declined: ContactAnswer | undefined;
  let optedOut = false;
  let cancelled: { reason?: string } | undefined;
  let undeliverable: string | undefined;
  const ended = () => state.status !== 'active';
  const decided = () => choice !== undefined || declined !== undefined || optedOut || cancelled !== undefined || undeliverable !== undefined;

  setHandler(journeyStateQuery, () => state);

  setHandler(contactAnsweredSignal, (a) => {
    state.events.push({ at: a.receivedAt, direction: 'received', kind: a.method, channel: a.channel, providerId: a.providerId, detail: a.decision });
    if (ended() || decided()) return;
    if (a.decision === 'opt_out') optedOut = true;
    else replies.push(a);
  });

  const seenStatuses = new Set<string>();
  setHandler(providerStatusSignal, (s) => {
    const seen = `${s.providerId}/${s.status}`;
    if (seenStatuses.has(seen)) return;
    seenStatuses.add(seen);
    state.events.push({ at: s.receivedAt, direction: 'note', kind: `status:${s.status}`, providerId: s.providerId, detail: s.errorCode ? `error ${s.errorCode}` : undefined });
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

  const offer = await inThread.offerCategories({ businessId: input.businessId });
  const offered: OfferedCategory[] = offer.categories;
  const offeredIds = offered.map((c) => c.id);
  state.categories = offeredIds;

  await consent.beginJourney({
    businessId: input.businessId,
    contactId: input.contactId,
    contact: { phone: input.phone },
    categories: offeredIds,
    plan: [{ channel: input.channel, waitForMs: input.waitForMs, remindAfterMs: [] }],
    source: { kind: IN_THREAD_SOURCE_KIND, reference: input.start.messageSid, evidence: { channel: input.channel, text: input.start.text, receivedAt: input.start.receivedAt, resumedMessaging: input.resumedMessaging ?? false } },
    requestedAt: input.requestedAt,
    journeyId,
    workflowId,
    runId,
  });

  const baseSend: Omit<SendInput, 'idempotencyKey' | 'purpose'> = {
    channel: input.channel,
    businessId: input.businessId,
    contactId: input.contactId,
    phone: input.phone,
    categories: offeredIds,
    journeyId,
    workflowId,
    runId,
    step: 0,
  };
  const noteSent = (purpose: string, channel: string, r: SendResult) => {
    state.events.push({ at: r.at, direction: 'sent', kind: `${purpose}:${r.outcome}`, channel, step: 0, providerId: r.providerId, detail: r.errorCode ? `error ${r.errorCode}` : (r.mode ?? r.reason) });
  };

  const question = await send({ ...baseSend, purpose: 'category_question', idempotencyKey: `${workflowId}/${runId}/category_question` });
  state.attempts++;
  noteSent('category_question', input.channel, question);
  const questionProof: RequestProof = { channel: input.channel, shown: question.shown, providerId: question.providerId, mode: question.mode, requestedAt: question.at };
  if (question.outcome === 'refused') optedOut = true;
  if (question.outcome === 'failed') undeliverable = `the question could not be delivered${question.errorCode ? ` (error ${question.errorCode})` : ''}`;

  const deadline = Date.now() + input.waitForMs;
  state.nextDeadline = new Date(deadline).toISOString();
  let clarified = false;
  while (!decided()) {
    const woke = await condition(() => decided() || replies.length > 0, Math.max(1, deadline - Date.now()));
    if (decided() || !woke) break;
    const reply = replies.shift() as ContactAnswer;
    if (reply.decision === 'decline') {
      declined = reply;
      break;
    }
    const parsed = parseCategoryChoice(replyOf(reply), offered);
    if (parsed.kind === 'chosen') {
      choice = { categories: parsed.categories, all: parsed.all, answer: reply, buttonPayload: replyOf(reply).buttonPayload };
      break;
    }
    state.events.push({ at: reply.receivedAt, direction: 'note', kind: 'unreadable_choice', providerId: reply.providerId, detail: parsed.reason });
    if (!clarified) {
      clarified = true;
      const r = await send({ ...baseSend, purpose: 'category_clarify', idempotencyKey: `${workflowId}/${runId}/category_clarify` });
      noteSent('category_clarify', input.channel, r);
      if (r.outcome === 'refused') optedOut = true;
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
  } else if (choice) {
    const written = await inThread.recordInThreadChoice({
      journeyId,
      workflowId,
      runId,
      businessId: input.businessId,
      contactId: input.contactId,
      phone: input.phone,
      channel: input.channel,
      start: input.start,
      resumedMessaging: input.resumedMessaging,
      offered: offeredIds,
      chosen: choice.categories,
      chosenAll: choice.all,
      question: questionProof,
      answer: choice.answer,
      buttonPayload: choice.buttonPayload,
    });
    confirmedCategories = written.categories;
    const confirmation = await send({ ...baseSend, categories: written.categories, channel: 'whatsapp', purpose: 'confirmation', idempotencyKey: `${workflowId}/${runId}/confirmation` });
    noteSent('confirmation', 'whatsapp', confirmation);
    await consent.recordConfirmationSent({ journeyId, businessId: input.businessId, contactId: input.contactId, phone: input.phone, categories: written.categories, providerId: confirmation.providerId, outcome: confirmation.outcome, shown: confirmation.shown, at: confirmation.at });
    status = 'confirmed';
  } else if (declined) {
    await consent.recordDecline({ journeyId, workflowId, runId, businessId: input.businessId, contactId: input.contactId, phone: input.phone, categories: offeredIds, answer: declined, request: questionProof });
    status = 'declined';
  } else if (undeliverable) {
    reason = undeliverable;
  } else {
    reason = 'no answer to the category question';
  }

  state.status = status;
  state.outcome = { status, reason, categories: confirmedCategories, at: now() };
  upsertSearchAttributes([{ key: OptinStatus, value: status }]);
  await consent.finishJourney(state);
  log.info('category choice ended', { status, categories: confirmedCategories?.length ?? 0 });
  await condition(allHandlersFinished);
  return state;
}
