import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { httpOk, spawnManaged, waitUntil, type ManagedProcess } from '../processes';

/**
 * The Temporal UI for the cluster profile: Temporal's own UI server (github.com/temporalio/ui-server,
 * the web assets built into the binary, as the CLI's dev server embeds them), in its own process,
 * pointed at the cluster's frontend. The dev server profile gets its UI from the CLI instead.
 */

export interface TemporalUiOptions {
  bin: string;
  /** The cluster frontend's gRPC address (host:port). */
  frontendAddress: string;
  host: string;
  port: number;
  /** Where its generated config goes. */
  configDir: string;
  logFile: string;
  onSpawn?: (process: ManagedProcess) => void;
}

export interface TemporalUi {
  url: string;
  process: ManagedProcess;
}

/** The UI server reads `<configDir>/<env>.yaml`; this env name keeps its stock defaults (development.yaml) out. */
const UI_ENV = 'optinflow';

export function uiConfigYaml(o: Pick<TemporalUiOptions, 'frontendAddress' | 'host' | 'port'>): string {
  return `# Written by dev/cluster/ui.ts at start.
temporalGrpcAddress: ${o.frontendAddress}
host: ${o.host}
port: ${o.port}
enableUi: true
defaultNamespace: default
# Served over plain HTTP on the stack's loopback address.
cors:
  cookieInsecure: true
`;
}

export async function startTemporalUi(o: TemporalUiOptions): Promise<TemporalUi> {
  mkdirSync(o.configDir, { recursive: true });
  writeFileSync(path.join(o.configDir, `${UI_ENV}.yaml`), uiConfigYaml(o));
  const ui = spawnManaged({ name: 'Temporal UI', command: o.bin, args: ['--root', o.configDir, '--config', '.', '--env', UI_ENV, 'start'], logFile: o.logFile });
  o.onSpawn?.(ui);
  const url = `http://${o.host}:${o.port}`;
  try {
    await waitUntil(() => httpOk(`${url}/api/v1/settings`).catch(() => false), { timeoutMs: 60_000, intervalMs: 300, what: `the Temporal UI on ${url}`, process: ui });
  } catch (err) {
    await ui.stop();
    throw err;
  }
  return { url, process: ui };
}
