import { isDuplicateKey } from './errors';
import type { Store } from './models';

/**
 * Request ids callers send to make a call repeatable (POST /v1/optouts `requestId`). The document's id
 * is the scoped key (business, caller, request id), so the first body kept under it is the only one it
 * stands for, on FerretDB too.
 */
interface RequestIdDoc {
  _id: string;
  /** What the request asked for, as the service compares it: scalar fields and string lists only. */
  request: Record<string, unknown>;
  at: Date;
}
const requestIdsOf = (store: Store) => store.connection.collection<RequestIdDoc>('request_ids');

/** Keeps the request under its key; when the key is already taken, answers what it was taken with. */
export async function claimRequestId(store: Store, key: string, request: Record<string, unknown>): Promise<{ claimed: true } | { claimed: false; request: Record<string, unknown> }> {
  try {
    await requestIdsOf(store).insertOne({ _id: key, request, at: new Date() });
    return { claimed: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const earlier = await requestIdsOf(store).findOne({ _id: key });
  if (!earlier) throw new Error(`request id ${key} was taken and then disappeared`);
  return { claimed: false, request: earlier.request };
}
