import path from 'node:path';

/**
 * Settings of the local stack (`npm start`): where each component listens, where data and logs
 * go, and which tools run. These are not application settings (config/config.ts has those); they
 * only decide what the supervisor starts and the values it hands to the worker and the API.
 */
export interface StackSettings {
  host: string;
  temporalPort: number;
  temporalUiPort: number;
  ferretDbPort: number;
  carrierPort: number;
  carrierSmtpPort: number;
  apiPort: number;
  dataDir: string;
  /** Set when the user brings their own Temporal; nothing is started for it then. */
  externalTemporalAddress: string | undefined;
  /** Set when the user brings their own MongoDB; FerretDB is not started then. */
  externalMongoUri: string | undefined;
  temporalCliPath: string;
  ferretDbPath: string;
}

export const stackDefaults = {
  TEMPORAL_PORT: 7233,
  TEMPORAL_UI_PORT: 8233,
  FERRETDB_PORT: 27017,
  CARRIER_PORT: 4010,
  CARRIER_SMTP_PORT: 2525,
  API_PORT: 3000,
} as const;

export class StackSettingsError extends Error {}

function readPort(env: NodeJS.ProcessEnv, name: keyof typeof stackDefaults): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return stackDefaults[name];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StackSettingsError(`${name}=${raw} is not a port number (1-65535)`);
  return port;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function readStackSettings(env: NodeJS.ProcessEnv, repoRoot: string): StackSettings {
  const settings: StackSettings = {
    host: '127.0.0.1',
    temporalPort: readPort(env, 'TEMPORAL_PORT'),
    temporalUiPort: readPort(env, 'TEMPORAL_UI_PORT'),
    ferretDbPort: readPort(env, 'FERRETDB_PORT'),
    carrierPort: readPort(env, 'CARRIER_PORT'),
    carrierSmtpPort: readPort(env, 'CARRIER_SMTP_PORT'),
    apiPort: readPort(env, 'API_PORT'),
    dataDir: path.resolve(repoRoot, nonEmpty(env.DATA_DIR) ?? '.data'),
    externalTemporalAddress: nonEmpty(env.TEMPORAL_ADDRESS),
    externalMongoUri: nonEmpty(env.MONGODB_URI),
    temporalCliPath: nonEmpty(env.TEMPORAL_CLI_PATH) ?? path.join(repoRoot, '.tools', 'bin', 'temporal'),
    ferretDbPath: nonEmpty(env.FERRETDB_PATH) ?? path.join(repoRoot, '.tools', 'bin', 'ferretdb'),
  };
  const byPort = new Map<number, string>();
  const claimed: Array<[string, number, boolean]> = [
    ['TEMPORAL_PORT', settings.temporalPort, !settings.externalTemporalAddress],
    ['TEMPORAL_UI_PORT', settings.temporalUiPort, !settings.externalTemporalAddress],
    ['FERRETDB_PORT', settings.ferretDbPort, !settings.externalMongoUri],
    ['CARRIER_PORT', settings.carrierPort, true],
    ['CARRIER_SMTP_PORT', settings.carrierSmtpPort, true],
    ['API_PORT', settings.apiPort, true],
  ];
  for (const [name, port, used] of claimed) {
    if (!used) continue;
    const other = byPort.get(port);
    if (other) throw new StackSettingsError(`${name} and ${other} are both ${port}: give each component its own port`);
    byPort.set(port, name);
  }
  return settings;
}
