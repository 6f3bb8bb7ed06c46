import type { ReportJourney, ReportLedgerEvent } from '../domain/consent-report';
import type { Store } from './models';

/**
 * The reads behind the consent report: plain finds by business and time range with a projection,
 * streamed through a cursor (never a whole collection in memory) and aggregated by the caller. They
 * run alike on MongoDB (indexes on businessId + time) and FerretDB 1.24 (no $lookup, no $facet).
 */

const BATCH = 1_000;
/** An opt-out's confirmation is claimed in the outbox moments after the STOP; one near the window's end may fall just past it. */
const CONFIRMATION_SLACK_MS = 86_400_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

/** Journeys of the business that started in the range. */
export async function eachJourneyStarted(store: Store, businessId: string, range: TimeRange, visit: (j: ReportJourney) => void): Promise<void> {
  const cursor = store.journeys
    .find({ businessId, startedAt: { $gte: range.from, $lt: range.to } }, { startedAt: 1, status: 1, campaignId: 1, categories: 1, plan: 1, 'source.kind': 1 })
    .lean()
    .batchSize(BATCH)
    .cursor();
  for await (const doc of cursor) visit(doc as ReportJourney);
}

/** Opt-outs, opt-ins and declines the ledger holds for the business in the range (not the contacts' phones or payloads). */
export async function eachLedgerEvent(store: Store, businessId: string, range: TimeRange, visit: (e: ReportLedgerEvent) => void): Promise<void> {
  const proof = ['method', 'channel', 'receivedAt', 'recordedAt', 'requestedAt', 'answeredAt', 'journeyId', 'optOutId', 'text', 'confirmedCategories', 'matchedKeyword', 'keywordLanguage'];
  const cursor = store.consentEvents
    .find({ businessId, at: { $gte: range.from, $lt: range.to }, type: { $in: ['opted_out', 'opted_in', 'declined'] } }, { category: 1, type: 1, at: 1, ...Object.fromEntries(proof.map((f) => [`proof.${f}`, 1])) })
    .lean()
    .batchSize(BATCH)
    .cursor();
  for await (const doc of cursor) visit(doc as unknown as ReportLedgerEvent);
}

/**
 * Messages the provider took for the business: opt-out confirmations (keyed by their opt-out's id; the
 * outbox row is `<optOutId>/confirmation`) and every other message, for the opt-out rate per message.
 */
export async function eachSentMessage(store: Store, businessId: string, range: TimeRange, visit: { optOutConfirmation(optOutId: string, sentAt: Date): void; message(channel: string, sentAt: Date): void }): Promise<void> {
  const until = new Date(range.to.getTime() + CONFIRMATION_SLACK_MS);
  const cursor = store.outbox
    .find({ businessId, status: 'sent', createdAt: { $gte: range.from, $lt: until } }, { _id: 1, sentAt: 1, purpose: 1, channel: 1 })
    .lean()
    .batchSize(BATCH)
    .cursor();
  for await (const doc of cursor) {
    if (!doc.sentAt) continue;
    if (doc.purpose === 'optout_confirmation') visit.optOutConfirmation(String(doc._id).replace(/\/confirmation$/, ''), doc.sentAt);
    else visit.message(String(doc.channel ?? 'unknown'), doc.sentAt);
  }
}
