/** What `npm start` checks before starting anything: the executables it needs, free ports, and which entry files exist. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StackSettingsError, type StackSettings } from './ports';
import { assertPortFree } from './free-port';
import { repoRoot } from './supervisor';

export function entryFile(relative: string): string | undefined {
  const file = path.join(repoRoot, relative);
  return existsSync(file) ? file : undefined;
}

export function requireExecutable(file: string, what: string, pathVar: string, addressVar: string): void {
  if (existsSync(file)) return;
  if (process.env[pathVar]) throw new StackSettingsError(`${pathVar}=${file} does not exist: fix it, or unset it to use the one 'npm run tools' installs`);
  throw new StackSettingsError(`${what} not found at ${file}: run 'npm run tools', or set ${pathVar} or ${addressVar}`);
}

export async function checkPorts(settings: StackSettings): Promise<void> {
  const checks: Array<[number, string, string]> = [
    [settings.carrierPort, 'carrier HTTP', 'CARRIER_PORT'],
    [settings.carrierSmtpPort, 'carrier SMTP', 'CARRIER_SMTP_PORT'],
    [settings.apiPort, 'API', 'API_PORT'],
  ];
  if (!settings.externalTemporalAddress) {
    checks.push([settings.temporalPort, 'Temporal', 'TEMPORAL_PORT'], [settings.temporalUiPort, 'Temporal UI', 'TEMPORAL_UI_PORT']);
  }
  if (!settings.externalMongoUri) checks.push([settings.ferretDbPort, 'FerretDB', 'FERRETDB_PORT']);
  for (const [port, name, envVar] of checks) await assertPortFree(port, name, envVar, settings.host);
}
