import { withStorableKeys } from '../domain/payload';
import type { LedgerActor } from '../domain/access';
import type { JourneyInput, JourneyState } from '../workflows/journey/contract';
import type { ContactDoc, Store } from './models';
import { upsertAndReadContact } from './queries';
import { tallyCampaignOutcome } from './campaign-outcomes';
import { groupCommit, perStore } from './group-commit';

export interface JourneyStart {
  _id: string;
  workflowId: string;
  runId: string;
  businessId: string;
  contactId: string;
  campaignId?: string;
  /** Its row in the campaign's file (0-based), under which its outcome is counted. */
  campaignRow?: number;
  categories: string[];
  plan: unknown;
  source?: unknown;
  actor?: LedgerActor;
  startedAt: Date;
  /** Its workflow runs an opt-out's step that comes with the opt-out's signal (journeyWorkflowV5). */
  carriesOptOuts?: boolean;
}

/** The journey's document, written once when it begins; a retried first step finds it and changes nothing. */
export async function recordJourneyStart(store: Store, j: JourneyStart): Promise<void> {
  const { _id, ...fields } = j;
  await store.journeys.updateOne({ _id }, { $setOnInsert: { ...fields, status: 'active' } }, { upsert: true });
}

/** What a journey writes as it begins: its ids and what it was started with. */
export type JourneyBegin = JourneyInput & { journeyId: string; workflowId: string; runId: string; carriesOptOuts?: boolean };

/**
 * The contact (created or updated, asked now, its journeys counted) and the journey's document, side
 * by side; a retry is harmless. Answers the contact as written, so the send gate need not read it again.
 */
export async function recordJourneyBegin(store: Store, input: JourneyBegin): Promise<ContactDoc | null> {
  const [contact] = await Promise.all([upsertAndReadContact(store, { businessId: input.businessId, contactId: input.contactId, ...input.contact }, { journeyBegins: true, journeyId: input.journeyId }), startDocument(store, input)]);
  return contact;
}

function startDocument(store: Store, input: JourneyBegin): Promise<void> {
  return recordJourneyStart(store, {
    _id: input.journeyId,
    workflowId: input.workflowId,
    runId: input.runId,
    businessId: input.businessId,
    contactId: input.contactId,
    campaignId: input.campaignId,
    campaignRow: input.campaignRow,
    categories: input.categories,
    plan: input.plan,
    source: input.source,
    actor: input.actor,
    startedAt: new Date(input.requestedAt),
    ...(input.carriesOptOuts ? { carriesOptOuts: true } : {}),
  });
}

/**
 * The journey's outcome, written once. The step is a local activity, which runs again when the workflow
 * task that ran it fails (a signal arriving as the journey completes): true only for the run that ended it.
 * A record an opt-out closed already (closeJourneyForOptOut) gets the journey's state, and keeps the
 * opt-out's end time unless the journey had decided otherwise before the opt-out reached it.
 */
export async function recordJourneyEnd(store: Store, state: JourneyState): Promise<boolean> {
  const endedAt = new Date();
  const active = async () => (await store.journeys.updateOne({ _id: state.journeyId, status: 'active' }, { $set: { status: state.status, state, endedAt } })).modifiedCount === 1;
  const closed = async () =>
    (
      await store.journeys.updateOne(
        { _id: state.journeyId, status: 'opted_out', endedBy: { $exists: true }, state: { $exists: false } },
        { $set: { status: state.status, state, ...(state.status === 'opted_out' ? {} : { endedAt }) } },
      )
    ).modifiedCount === 1;
  // The record's step for its campaign's tally: 1 written from active, 2 over an opt-out's close.
  let step = 0;
  const tried = async (write: () => Promise<boolean>, written: number) => {
    const done = await write();
    if (done) step = written;
    return done;
  };
  // An opted-out journey's record was almost always closed by its opt-out already: that update first
  // saves one per opt-out. Closed-then-active can miss a close landing between the two, so a record
  // neither matched is tried as closed once more.
  const ended =
    state.status !== 'opted_out'
      ? (await tried(active, 1)) || (await tried(closed, 2))
      : (await tried(closed, 2)) || (await tried(active, 1)) || (await tried(closed, 2));
  if (state.campaignId && state.campaignRow !== undefined) await tallyJourneyRecord(store, { campaignId: state.campaignId, row: state.campaignRow }, state.journeyId, ended ? { step, status: state.status } : undefined);
  return ended;
}

/**
 * Counts the journey's record in its campaign's outcomes: as just written, or (a step run again after
 * its write, or a record another step ended) as the store has it.
 */
async function tallyJourneyRecord(store: Store, at: { campaignId: string; row: number }, journeyId: string, written: { step: number; status: string } | undefined): Promise<void> {
  let record = written;
  if (!record) {
    const doc = await store.journeys.findById(journeyId, { status: 1, endedBy: 1, 'state.journeyId': 1 }).lean<{ status?: string; endedBy?: string; state?: unknown }>();
    const step = (doc?.endedBy ? 1 : 0) + (doc?.state ? 1 : 0);
    if (!doc?.status || step === 0) return;
    record = { step, status: doc.status };
  }
  await tallyCampaignOutcome(store, { ...at, ...record });
}

/**
 * An opt-out closes the record of the contact's journey at once, when it is acknowledged and again
 * in its workflow's store step: lists, reports and campaign counts show the journey opted out from
 * then on, while the journey's workflow takes its own time (a busy task queue) to end and record its
 * state. Only a journey begun before the opt-out and still active; by _id, through the contact's
 * latest journey (FerretDB finds by _id only), from `contactRead` when the caller has read the
 * contact already. True when this call closed it.
 */
export async function closeJourneyForOptOut(store: Store, o: { contactId: string; optOutId: string; receivedAt: string }, contactRead?: Promise<{ currentJourneyId?: string | null } | null>): Promise<boolean> {
  return (await closeJourneyRecord(store, o, contactRead)) !== undefined;
}

/** The journey record an opt-out closed: which run to tell, and whether that run carries the opt-out's step itself. */
export interface ClosedJourney {
  workflowId: string;
  runId: string;
  carriesOptOuts: boolean;
}

/** closeJourneyForOptOut, answering the record it closed; undefined when it closed none. */
export async function closeJourneyRecord(store: Store, o: { contactId: string; optOutId: string; receivedAt: string }, contactRead?: Promise<{ currentJourneyId?: string | null } | null>): Promise<ClosedJourney | undefined> {
  // A caller that has just read the contact passes that read: one round trip fewer per opt-out.
  const contact = await (contactRead ?? store.contacts.findById(o.contactId, { currentJourneyId: 1 }).lean<{ currentJourneyId?: string }>());
  if (!contact?.currentJourneyId) return undefined;
  const before = await store.journeys
    .findOneAndUpdate({ _id: contact.currentJourneyId, status: 'active', startedAt: { $lte: new Date(o.receivedAt) } }, { $set: { status: 'opted_out', endedAt: new Date(), endedBy: o.optOutId } })
    .lean<{ workflowId: string; runId: string; campaignId?: string; campaignRow?: number; carriesOptOuts?: boolean }>();
  if (!before) return undefined;
  // Should this fail, the journey's own end counts its record.
  if (before.campaignId && before.campaignRow !== undefined) await tallyCampaignOutcome(store, { campaignId: before.campaignId, row: before.campaignRow, step: 1, status: 'opted_out' });
  return { workflowId: before.workflowId, runId: before.runId, carriesOptOuts: before.carriesOptOuts === true };
}

export interface InboundMessageRecord {
  _id: string;
  businessId: string;
  contactId: string;
  channel: string;
  from: string;
  intent: string;
  routedTo: string;
  receivedAt: Date;
  payload: Record<string, unknown>;
  /** The stored whole of a payload too large or oddly named to keep here (store/payloads.ts). */
  payloadRef?: string;
}

/** Every inbound message is kept once, keyed by the provider's message id; field names the store refuses are made storable. */
export async function keepInboundMessage(store: Store, m: InboundMessageRecord): Promise<void> {
  await inboundKeeps(store).add(m);
}

const keepOnce = (m: InboundMessageRecord) => {
  const { _id, ...fields } = m;
  return { filter: { _id }, update: { $setOnInsert: { ...fields, payload: withStorableKeys(fields.payload) } }, upsert: true };
};

/** Messages kept while one is being kept go in one bulk write: each an upsert that only inserts, so writing one again changes nothing. */
const inboundKeeps = perStore((store: Store) =>
  groupCommit<InboundMessageRecord>(
    (ms) => store.inbound.bulkWrite(ms.map((m) => ({ updateOne: keepOnce(m) })), { ordered: false }),
    (m) => {
      const { filter, update, upsert } = keepOnce(m);
      return store.inbound.updateOne(filter, update, { upsert });
    },
  ),
);
