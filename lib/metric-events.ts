import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * What the application tells its metrics, as Node diagnostics channels: services publish where the
 * thing happens (API and worker alike), each process's metrics subscribe. Publishing costs nothing
 * when no one listens, and services stay free of any metrics library.
 */
export interface EventChannel<T> {
  publish(message: T): void;
  /** Returns the unsubscribe. */
  subscribe(listener: (message: T) => void): () => void;
}

function eventChannel<T>(name: string): EventChannel<T> {
  // Held for the process's life: a channel object with subscribers must not be collected.
  const channel = diagnosticsChannel.channel(name);
  return {
    publish(message) {
      if (channel.hasSubscribers) channel.publish(message);
    },
    subscribe(listener) {
      const onMessage = (message: unknown) => listener(message as T);
      channel.subscribe(onMessage);
      return () => channel.unsubscribe(onMessage);
    },
  };
}

/** A journey workflow was started (not a duplicate start of a running one). */
export const journeyStarted = eventChannel<{ channel: string; source: string; campaign: boolean }>('optinflow:journey-started');

/** An opt-out's workflow was started: each opt-out once, whichever process or sweep started it. */
export const optOutStarted = eventChannel<{ source: string; channel: string }>('optinflow:optout-started');

/** A webhook, page or API call that asked for an opt-out was answered, with how far the opt-out had got. */
export const optOutAnswered = eventChannel<{ source: string; progress: string }>('optinflow:optout-answered');

/** A promise rejected with no handler, and the process went on (lib/unhandled-rejections.ts). */
export const unhandledRejection = eventChannel<Record<string, never>>('optinflow:unhandled-rejection');
