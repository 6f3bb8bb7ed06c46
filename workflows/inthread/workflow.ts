import { allHandlersFinished, condition, log, proxyActivities } from '@temporalio/workflow';
import type { ChannelActivities, SendInput } from '../../activities/channel';
import type { RequestProof } from '../../activities/consent';
import type { InThreadActivities } from '../../activities/inthread';
import { parseCategoryChoice, type CategoryReply, type OfferedCategory } from '../../domain/category-choice';
import { proxyStoreSteps, SEND_ACTIVITY_OPTIONS } from '../activity-options';
import type { ContactAnswer, JourneyState } from '../journey/contract';
import { confirmOnWhatsApp, consentSteps, currentJourneyRun, handleJourneyEndings, handleJourneyReports, noteSent, settleJourney, type JourneyHooks, type JourneySendBase } from '../journey/run';
import { IN_THREAD_SOURCE_KIND, type CategoryChoiceInput } from './contract';

const { send } = proxyActivities<ChannelActivities>(SEND_ACTIVITY_OPTIONS);
const inThread = proxyStoreSteps<InThreadActivities>();

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
  const { workflowId, runId, journeyId } = currentJourneyRun();

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

  const hooks: JourneyHooks = {
    ended,
    decided,
    answered: (a) => {
      if (a.decision === 'opt_out') optedOut = true;
      else replies.push(a);
    },
    optedOut: () => {
      optedOut = true;
    },
    cancelled: (reason) => {
      cancelled = { reason };
    },
  };
  handleJourneyReports(state, hooks);
  handleJourneyEndings(state, hooks);

  const offer = await inThread().offerCategories({ businessId: input.businessId });
  const offered: OfferedCategory[] = offer.categories;
  const offeredIds = offered.map((c) => c.id);
  state.categories = offeredIds;

  await consentSteps().beginJourney({
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

  const baseSend: JourneySendBase & Pick<SendInput, 'channel'> = {
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

  const question = await send({ ...baseSend, purpose: 'category_question', idempotencyKey: `${workflowId}/${runId}/category_question` });
  state.attempts++;
  noteSent(state, 'category_question', input.channel, question);
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
      noteSent(state, 'category_clarify', input.channel, r);
      if (r.outcome === 'refused') optedOut = true;
    }
  }
  state.nextDeadline = undefined;

  await settleJourney(state, consentSteps, { cancelled, optedOut }, async () => {
    if (choice) {
      const written = await inThread().recordInThreadChoice({
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
      await confirmOnWhatsApp(state, baseSend, written.categories, consentSteps);
      return { status: 'confirmed', categories: written.categories };
    }
    if (declined) {
      await consentSteps().recordDecline({ journeyId, workflowId, runId, businessId: input.businessId, contactId: input.contactId, phone: input.phone, categories: offeredIds, answer: declined, request: questionProof });
      return { status: 'declined' };
    }
    return { status: 'expired', reason: undeliverable ?? 'no answer to the category question' };
  });
  log.info('category choice ended', { status: state.status, categories: state.outcome?.categories?.length ?? 0 });
  await condition(allHandlersFinished);
  return state;
}
