import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeliverySettings } from '../../domain/consent-events';
import { defineWorkflowRef } from '../workflow-ref';

/**
 * Delivery of consent-change events to one endpoint of a business: one long-lived workflow per
 * endpoint reads the ledger from a durable watermark and sends what is not delivered yet, a batch per
 * activity (docs/events.md). It is woken by a signal after ledger appends and looks anyway now and
 * then, and continues as new when its history grows.
 */

export const EVENT_DELIVERY_WORKFLOW_TYPE = 'eventDeliveryWorkflow';
export const eventDeliveryWorkflowRef = defineWorkflowRef<EventDeliveryInput, EventDeliveryEnd>(EVENT_DELIVERY_WORKFLOW_TYPE);

export function eventDeliveryWorkflowId(endpointId: string): string {
  return `event-delivery.${endpointId}`;
}

export interface EventDeliveryInput {
  endpointId: string;
  businessId: string;
  /** Epoch ms: ledger events recorded from then on are delivered (the endpoint's registration). */
  deliverFrom: number;
  settings?: Partial<DeliverySettings>;
  carried?: EventDeliveryState;
}

export interface ReplayRequest {
  requestId: string;
  /** Epoch ms: events that happened from then on are sent again. */
  since: number;
}

export interface EventDeliveryState {
  /** Epoch ms of recording: no event recorded before it (less the overlap) is waiting. */
  watermark: number;
  /** Rounds in a row that could not deliver: the backoff grows with them. */
  failedRounds: number;
  replays: (ReplayRequest & { key?: { at: number; id: string } })[];
  delivered: number;
}

export interface EventDeliveryEnd {
  reason: 'endpoint_deleted';
  delivered: number;
}

/** Ledger events were appended for the endpoint's business: look now. Carries nothing, so many wakes are one. */
export const eventsAppendedSignal = defineSignal('eventsAppended');
/** The endpoint was deleted: end. */
export const stopDeliverySignal = defineSignal('stopDelivery');
export const replayEventsSignal = defineSignal<[ReplayRequest]>('replayEvents');
export const deliveryStateQuery = defineQuery<EventDeliveryState>('deliveryState');

/** What the activities take and answer (activities/event-delivery.ts). */
export interface DeliveryRound {
  endpointId: string;
  watermark: number;
  settings: DeliverySettings;
}

export interface DeliveryRoundResult {
  endpointGone?: boolean;
  watermark: number;
  delivered: number;
  failed: number;
  /** More was waiting than one round sends: go again at once. */
  more: boolean;
}

export interface ReplayRound {
  endpointId: string;
  since: number;
  key?: { at: number; id: string };
  settings: DeliverySettings;
}

export interface ReplayRoundResult {
  endpointGone?: boolean;
  key?: { at: number; id: string };
  delivered: number;
  failed: number;
  done: boolean;
}
