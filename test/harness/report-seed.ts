import type { Store } from '../../store/models';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * A hand-counted set for the consent report, written straight into the store as the activities would
 * have written it (journeys, ledger events, opt-out confirmations in the outbox), spread over the last
 * `days` days so it crosses day boundaries.
 */
export const SEEDED = {
  journeys: 10,
  confirmed: 4,
  declined: 2,
  expired: 1,
  optedOut: 1,
  active: 2,
  optOuts: 5,
  bySource: { keyword: 3, agent: 1, unsubscribe_link: 1 },
  byChannel: { sms: 4, whatsapp: 3, email: 2, ivr: 1 },
  /** One opt-in request per journey (opt-out confirmations are not counted as messages sent). */
  messagesSent: 10,
};

const PLAN: [string, string, string][] = [
  // channel, status, source
  ['sms', 'confirmed', 'api'],
  ['sms', 'confirmed', 'campaign'],
  ['sms', 'declined', 'campaign'],
  ['sms', 'active', 'api'],
  ['whatsapp', 'confirmed', 'web_form'],
  ['whatsapp', 'opted_out', 'api'],
  ['whatsapp', 'active', 'campaign'],
  ['email', 'confirmed', 'campaign'],
  ['email', 'declined', 'api'],
  ['ivr', 'expired', 'campaign'],
];

const OPTOUTS: [string, string, number, number | undefined][] = [
  // method, channel, ms to the ledger, ms to the confirmation (none when the provider was not asked)
  ['keyword', 'sms', 400, 2_000],
  ['keyword', 'sms', 900, 3_000],
  ['keyword', 'whatsapp', 1_500, 400_000],
  ['agent', 'api', 200, undefined],
  ['unsubscribe_link', 'email', 300, 5_000],
];

export async function seedReportSet(store: Store, businessId: string, now = Date.now(), days = 4): Promise<void> {
  const journeys: object[] = [];
  const events: object[] = [];
  const outbox: object[] = [];
  PLAN.forEach(([channel, status, source], i) => {
    const startedAt = new Date(now - ((i % days) + 0.5) * DAY_MS);
    const contactId = `c_${String(i).padStart(24, '0')}`;
    const journeyId = `journey.${businessId}.${contactId}:run${i}`;
    journeys.push({ _id: journeyId, workflowId: `journey.${businessId}.${contactId}`, runId: `run${i}`, businessId, contactId, categories: ['offers'], plan: [{ channel, waitForMs: DAY_MS }], source: { kind: source }, status, startedAt });
    outbox.push({ _id: `${journeyId}/0/optin_request`, businessId, contactId, journeyId, channel, purpose: 'optin_request', to: '+14155550100', status: 'sent', createdAt: startedAt, sentAt: new Date(startedAt.getTime() + 500) });
    const answeredAt = new Date(startedAt.getTime() + (i + 1) * 60_000);
    const proof = { journeyId, method: `${channel}_reply`, channel, requestedAt: startedAt.toISOString(), answeredAt: answeredAt.toISOString(), recordedAt: answeredAt.toISOString() };
    if (status === 'confirmed') events.push({ _id: `${journeyId}:offers:opted_in`, businessId, contactId, phone: '+14155550100', category: 'offers', type: 'opted_in', at: answeredAt, proof: { ...proof, confirmedCategories: ['offers'] } });
    if (status === 'declined') events.push({ _id: `${journeyId}:declined`, businessId, contactId, phone: '+14155550100', category: 'offers', type: 'declined', at: answeredAt, proof });
  });
  OPTOUTS.forEach(([method, channel, ledgerMs, confirmMs], i) => {
    const receivedAt = new Date(now - ((i % days) + 0.25) * DAY_MS);
    const optOutId = `optout.seed.${i}`;
    const contactId = `c_${String(100 + i).padStart(24, '0')}`;
    const proof = { optOutId, method, channel, text: method === 'keyword' ? 'STOP' : undefined, matchedKeyword: method === 'keyword' ? 'stop' : undefined, keywordLanguage: method === 'keyword' ? 'en' : undefined, receivedAt: receivedAt.toISOString(), recordedAt: new Date(receivedAt.getTime() + ledgerMs).toISOString(), allCategories: true };
    for (const category of ['offers', 'order_updates']) events.push({ _id: `${optOutId}:${category}:opted_out`, businessId, contactId, phone: '+14155550100', category, type: 'opted_out', at: receivedAt, proof });
    if (confirmMs !== undefined) outbox.push({ _id: `${optOutId}/confirmation`, businessId, contactId, channel, purpose: 'optout_confirmation', to: '+14155550100', status: 'sent', createdAt: receivedAt, sentAt: new Date(receivedAt.getTime() + confirmMs) });
  });
  await store.connection.collection('journeys').insertMany(journeys as never[]);
  await store.connection.collection('consent_events').insertMany(events as never[]);
  await store.connection.collection('outbox').insertMany(outbox as never[]);
}
