import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * "Ledger events were appended for these businesses", published by the store after each append and
 * heard by the process's event-delivery wake (services/event-wake.ts), so the store never calls
 * Temporal. `database` tells apart stores of several stacks in one process (tests).
 */
export interface LedgerAppended {
  database: string;
  businessIds: string[];
}

// Held for the process's life: a channel object with subscribers must not be collected.
const channel = diagnosticsChannel.channel('optinflow:ledger-appended');

export function publishLedgerAppended(message: LedgerAppended): void {
  if (channel.hasSubscribers) channel.publish(message);
}

/** Returns the unsubscribe. */
export function onLedgerAppended(listener: (message: LedgerAppended) => void): () => void {
  const onMessage = (message: unknown) => listener(message as LedgerAppended);
  channel.subscribe(onMessage);
  return () => channel.unsubscribe(onMessage);
}
