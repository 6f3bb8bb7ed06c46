/**
 * The in-thread category choice: a contact who writes START (or "subscribe", ...) on SMS or WhatsApp
 * with no journey running is asked, in the same thread, which categories they want.
 *
 * It runs AS the contact's journey: its workflow id is journeyWorkflowId(businessId, contactId) and it
 * answers the journey's query, signals and cancel update (workflows/journey/contract.ts). So replies
 * reach it by the inbound routing every journey uses, an opt-out ends it through optedOutSignal,
 * `POST /v1/journeys` for the contact answers "already running", and GET /v1/journeys/:id reads it.
 */

export const CATEGORY_CHOICE_WORKFLOW_TYPE = 'categoryChoiceWorkflow';

/** How long the question stays open; the inbound workflow asks with this, tests with seconds. */
export const DEFAULT_CATEGORY_CHOICE_WAIT_MS = 24 * 3_600_000;

export interface CategoryChoiceInput {
  businessId: string;
  contactId: string;
  phone: string;
  /** The thread the contact wrote in; the question and the clarification go there. */
  channel: 'sms' | 'whatsapp';
  /** The contact's own message that asked to subscribe: part of the proof. */
  start: {
    messageSid: string;
    text?: string;
    receivedAt: string;
    payload: Record<string, unknown>;
  };
  waitForMs: number;
  /** The same START had lifted an opt-out from everything (and restored no category). */
  resumedMessaging?: boolean;
  requestedAt: string;
}

/** The journey source kind stored for a category choice; the START message sid is its reference. */
export const IN_THREAD_SOURCE_KIND = 'in_thread_start';
