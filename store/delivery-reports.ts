import { isDuplicateKey, type Store } from './models';

/**
 * Delivery reports that change nothing in a journey (delivered, read): kept for the audit trail here,
 * not sent to the journey, where each would cost a signal and a workflow task. One document per
 * message and status, written only by insert: a repeated callback changes nothing, and no update of
 * the outbox row can be lost to it (FerretDB 1.24 rewrites whole documents on update).
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

export async function keepDeliveryReport(store: Store, r: DeliveryReport): Promise<void> {
  try {
    await reportsOf(store).insertOne({ _id: `${r.providerId}:${r.status}`, ...r });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

export async function deliveryReportsOf(store: Store, providerId: string): Promise<DeliveryReport[]> {
  return reportsOf(store).find({ providerId }).toArray();
}
