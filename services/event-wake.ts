import { onLedgerAppended } from '../lib/ledger-events';
import { endpointsOf } from '../store/event-endpoints';
import type { Store } from '../store/models';
import type { ServiceLog } from './deps';
import { wakeEndpoint } from './event-endpoints';
import type { TemporalAccess } from './temporal';

/** Appends within this long become one wake per endpoint: a campaign's thousand writes are a few signals. */
const DEBOUNCE_MS = 1_000;

/**
 * Wakes the delivery workflows of businesses whose ledger grew in this process. A wake lost here (the
 * process dies inside the debounce, Temporal is down) only delays delivery until the workflow's own
 * idle check. Returns the stop.
 */
export function startEventWake(deps: TemporalAccess & { store: Store }, log: Pick<ServiceLog, 'warn'>, debounceMs = DEBOUNCE_MS): () => void {
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const flush = async () => {
    timer = undefined;
    const businessIds = [...pending];
    pending.clear();
    for (const businessId of businessIds) {
      try {
        for (const endpoint of await endpointsOf(deps.store, businessId)) await wakeEndpoint(deps, endpoint);
      } catch (err) {
        log.warn({ err, businessId }, 'could not wake event delivery; its idle check will look');
      }
    }
  };

  const unsubscribe = onLedgerAppended((m) => {
    if (stopped || m.database !== deps.store.connection.name) return;
    for (const id of m.businessIds) pending.add(id);
    timer ??= setTimeout(() => void flush(), debounceMs);
  });
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
