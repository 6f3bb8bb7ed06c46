/**
 * Credentials the local stack uses when the environment gives none. They are public (README and
 * tests quote them) and only good against the local carrier: never use them in production.
 */
export const DEV_TWILIO_ACCOUNT_SID = 'AC0de70de70de70de70de70de70de70de7';
export const DEV_TWILIO_AUTH_TOKEN = 'dev-twilio-auth-token-not-secret';
export const DEV_API_KEY = 'dev-api-key-not-secret';
export const DEV_PAGE_TOKEN_SECRET = 'dev-page-token-secret-not-for-production';
export const DEV_ERASURE_HASH_SECRET = 'dev-erasure-hash-secret-not-for-production';
export const DEV_EVENT_SECRETS_KEY = 'dev-event-secrets-key-not-for-production';
export const DEV_META_ACCESS_TOKEN = 'dev-meta-access-token-not-secret';
export const DEV_META_APP_SECRET = 'dev-meta-app-secret-not-secret';
export const DEV_META_VERIFY_TOKEN = 'dev-meta-verify-token-not-secret';

export interface StackEndpoints {
  temporalAddress: string;
  mongoUri: string;
  carrierUrl: string;
  carrierSmtpUrl: string;
  apiHost: string;
  apiPort: number;
}

export interface DevEnvironment {
  /** Variables to add to the environment of the worker, the API and the carrier. */
  env: Record<string, string>;
  /** Names of the secrets that fell back to the dev values above. */
  devCredentials: string[];
}

/**
 * What the stack hands its components: where the servers it started are, and a dev value for
 * every secret the user left unset. A value the user set always wins.
 */
export function devEnvironment(current: NodeJS.ProcessEnv, endpoints: StackEndpoints): DevEnvironment {
  const env: Record<string, string> = {};
  const devCredentials: string[] = [];
  const fill = (name: string, value: string, isCredential = false) => {
    const existing = current[name];
    if (existing !== undefined && existing !== '') {
      env[name] = existing;
      return;
    }
    env[name] = value;
    if (isCredential) devCredentials.push(name);
  };
  env.TEMPORAL_ADDRESS = endpoints.temporalAddress;
  env.MONGODB_URI = endpoints.mongoUri;
  env.API_HOST = endpoints.apiHost;
  env.API_PORT = String(endpoints.apiPort);
  fill('TWILIO_ACCOUNT_SID', DEV_TWILIO_ACCOUNT_SID, true);
  fill('TWILIO_AUTH_TOKEN', DEV_TWILIO_AUTH_TOKEN, true);
  fill('API_KEYS', DEV_API_KEY, true);
  fill('PAGE_TOKEN_SECRET', DEV_PAGE_TOKEN_SECRET, true);
  fill('ERASURE_HASH_SECRET', DEV_ERASURE_HASH_SECRET, true);
  fill('EVENT_SECRETS_KEY', DEV_EVENT_SECRETS_KEY, true);
  fill('META_ACCESS_TOKEN', DEV_META_ACCESS_TOKEN, true);
  fill('META_APP_SECRET', DEV_META_APP_SECRET, true);
  fill('META_VERIFY_TOKEN', DEV_META_VERIFY_TOKEN, true);
  fill('TWILIO_API_BASE_URL', endpoints.carrierUrl);
  fill('META_GRAPH_BASE_URL', endpoints.carrierUrl);
  fill('SMTP_URL', endpoints.carrierSmtpUrl);
  // On one machine every receiver a developer tries is local.
  fill('EVENT_ENDPOINTS_ALLOW_PRIVATE', 'true');
  fill('PUBLIC_BASE_URL', `http://${endpoints.apiHost}:${endpoints.apiPort}`);
  return { env, devCredentials };
}
