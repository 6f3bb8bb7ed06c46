/** `npm start -- --cluster`: the real Temporal server on PostgreSQL and its UI, with the tools they need built on first use. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startTemporalCluster, type TemporalCluster } from './cluster/cluster';
import { clusterToolPaths, missingClusterTools } from './cluster/tools';
import { startTemporalUi } from './cluster/ui';
import { searchAttributeDefinitions } from '../workflows/search-attributes';
import { StackSettingsError, type StackSettings } from './ports';
import { complain, logFile, repoRoot, say, type Stack } from './supervisor';

/** Builds the cluster profile's tools on first use, so `npm start -- --cluster` works on a fresh clone. */
function ensureClusterTools(): void {
  const tools = clusterToolPaths(repoRoot);
  const required = missingClusterTools(tools);
  if (required.length === 0 && existsSync(tools.uiServerBin)) return;
  say(`the cluster profile needs ${[...required, ...(existsSync(tools.uiServerBin) ? [] : [`the Temporal UI server at ${tools.uiServerBin}`])].join('; ')}: running npm run tools -- --cluster…`);
  const r = spawnSync('bash', [path.join(repoRoot, 'dev', 'tools.sh'), '--cluster'], { stdio: 'inherit' });
  // The UI is a convenience: a failed build of it alone leaves a working profile without it.
  if (r.status !== 0 && missingClusterTools(tools).length > 0) throw new StackSettingsError('npm run tools -- --cluster failed (see above)');
}

export async function startCluster(settings: StackSettings, stack: Stack): Promise<{ cluster: TemporalCluster; uiUrl: string | undefined }> {
  ensureClusterTools();
  const tools = clusterToolPaths(repoRoot);
  const cluster = await startTemporalCluster({
    tools,
    dataDir: path.join(settings.dataDir, 'cluster'),
    logDir: path.join(settings.dataDir, 'logs'),
    host: settings.host,
    frontendPort: settings.temporalPort,
    namespaces: [],
    searchAttributes: searchAttributeDefinitions,
    onSpawn: (p) => stack.watch(p),
  });
  // The shards settle a few seconds after the ring forms.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const [host, shards] of cluster.shardOwners()) say(`  ${host}: history shards ${shards.join(', ') || '(none yet)'}`);
  if (!existsSync(tools.uiServerBin)) {
    complain(`WARNING: no Temporal UI server at ${tools.uiServerBin} (npm run tools -- --cluster builds it): running without the UI`);
    return { cluster, uiUrl: undefined };
  }
  const ui = await startTemporalUi({
    bin: tools.uiServerBin,
    frontendAddress: cluster.address,
    host: settings.host,
    port: settings.temporalUiPort,
    configDir: path.join(settings.dataDir, 'cluster', 'config', 'ui'),
    logFile: logFile(settings, 'temporal-ui'),
    onSpawn: (p) => stack.watch(p),
  });
  return { cluster, uiUrl: ui.url };
}
