import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';

/** Connection options shared by the worker's NativeConnection and the API's Connection. */
export function temporalConnectionOptions(config: Config) {
  const mtls = config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
    ? { clientCertPair: { crt: readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: readFileSync(config.TEMPORAL_TLS_KEY_PATH) } }
    : undefined;
  const ca = config.TEMPORAL_TLS_CA_PATH ? { serverRootCACertificate: readFileSync(config.TEMPORAL_TLS_CA_PATH) } : undefined;
  const tls = mtls || ca || config.TEMPORAL_TLS || config.TEMPORAL_API_KEY ? { ...mtls, ...ca } : undefined;
  return { address: config.TEMPORAL_ADDRESS, tls, apiKey: config.TEMPORAL_API_KEY };
}
