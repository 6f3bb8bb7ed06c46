import { isDuplicateKey } from './errors';
import { groupCommit, perStore } from './group-commit';
import type { Store } from './models';

/**
 * Final delivery reports (delivered, read, and failures, which also reach the journey as a signal):
 * kept for the audit trail, and as the evidence a send whose provider call went unanswered looks for
 * first (`reportedSendOf`). One document per message and status, written only by insert: a repeated
 * callback changes nothing, and no update of the outbox row can be lost to it (FerretDB 1.24 rewrites
 * whole documents on update).
 */
export interface DeliveryReport {
  providerId: string;
  status: string;
  outboxKey?: string;
  workflowId?: string;
  errorCode?: number;
  at: Date;
}

const reportsOf = (store: Store) => store.connection.collection<DeliveryReport & { _id: string }>('delivery_reports');

type StoredReport = DeliveryReport & { _id: string };

async function insertOnce(store: Store, doc: StoredReport): Promise<void> {
  try {
    await reportsOf(store).insertOne(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** Reports that arrive while one is being written go in one insert (a repeat among them: one by one). */
const reportBatches = perStore((store: Store) =>
  groupCommit<StoredReport>(
    (docs) => reportsOf(store).insertMany(docs, { ordered: false }),
    (doc) => insertOnce(store, doc),
  ),
);

/** Keeps a final report; a repeated one changes nothing. Resolves once it is in the store. */
export async function keepDeliveryReport(store: Store, r: DeliveryReport): Promise<void> {
  await reportBatches(store).add({ _id: `${r.providerId}:${r.status}`, ...r });
}

export async function deliveryReportsOf(store: Store, providerId: string): Promise<DeliveryReport[]> {
  return reportsOf(store).find({ providerId }).toArray();
}

/**
 * The provider id of a message reported for this outbox row, if a report came: the callback URL
 * carries the row's key, so the provider has that message for this send.
 */
export async function reportedSendOf(store: Store, outboxKey: string): Promise<string | undefined> {
  const report = await reportsOf(store).findOne({ outboxKey }, { projection: { providerId: 1 } });
  return report?.providerId;
}

/** Reports are read by outbox key (a send being settled) and by provider id (a subject access request). */
export async function createDeliveryReportIndexes(store: Store): Promise<void> {
  // One at a time: FerretDB 1.24 panics on a createIndexes command naming two while another client creates the collection.
  await reportsOf(store).createIndex({ outboxKey: 1 });
  await reportsOf(store).createIndex({ providerId: 1 });
}
