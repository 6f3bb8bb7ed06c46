import type { BusinessRegistry } from '../domain/business';
import type { SecretBox } from '../lib/secret-box';
import type { Store } from '../store/models';
import type { TemporalAccess } from './temporal';

/** What the services need: Temporal, the store, the businesses, and where our public pages live. */
export interface ServiceDeps extends TemporalAccess {
  store: Store;
  businesses: BusinessRegistry;
  publicBaseUrl: string;
  pageTokenSecret: string;
  /** Keys the hash an erasure keeps of a number (ERASURE_HASH_SECRET); without it erasure is refused. */
  erasureHashSecret?: string;
  /** Seals event endpoints' secrets (EVENT_SECRETS_KEY); without it no endpoint can be registered. */
  eventSecrets?: SecretBox;
}

/** Logs what a service does in the background (sweeps, late starts); the API passes its request or app logger. */
export interface ServiceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
