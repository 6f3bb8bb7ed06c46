/** Outbound IVR calls as the local carrier keeps them: what tests and the dev page read. */

import type { WebhookDelivery } from './types';

export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export type TranscriptKind = 'say' | 'play' | 'pause' | 'gather' | 'keys' | 'timeout' | 'redirect' | 'hangup' | 'error' | 'unsupported';

export interface TranscriptEntry {
  at: string;
  kind: TranscriptKind;
  text: string;
}

export interface GatherPrompt {
  action: string;
  method: 'GET' | 'POST';
  numDigits: number | null;
  timeoutSeconds: number;
  finishOnKey: string;
  actionOnEmptyResult: boolean;
}

export interface CarrierCall {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  url: string | null;
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackEvents: string[];
  status: CallStatus;
  /** Set while the call waits at a `<Gather>` for the contact's keys. */
  gather: GatherPrompt | null;
  transcript: TranscriptEntry[];
  digits: string[];
  /** Every TwiML request and status callback the carrier made for this call. */
  webhooks: WebhookDelivery[];
  errorCode: number | null;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
}

export interface CallFilter {
  to?: string;
  from?: string;
}
