import { chmodSync } from 'node:fs';
import path from 'node:path';
import type { ManagedProcess } from '../../dev/processes';
import { startTemporalCluster, type TemporalCluster } from '../../dev/cluster/cluster';
import { clusterToolPaths } from '../../dev/cluster/tools';
import { searchAttributeDefinitions } from '../../workflows/search-attributes';

/**
 * The cluster profile for the suite (OPTINFLOW_TEST_TEMPORAL=cluster): the real Temporal server on
 * PostgreSQL, two history hosts. Test files learn the processes from OPTINFLOW_TEST_CLUSTER (a fault
 * test kills a history host by its pid: each process leads its own process group).
 */

export interface TestClusterInfo {
  serverBin: string;
  configDir: string;
  logDir: string;
  processes: Record<string, { pid: number; role: string }>;
}

export function testClusterInfo(): TestClusterInfo | undefined {
  const raw = process.env.OPTINFLOW_TEST_CLUSTER;
  return raw ? (JSON.parse(raw) as TestClusterInfo) : undefined;
}

export async function startTestCluster(workDir: string, repoRoot: string, namespaces: readonly string[], onSpawn?: (p: ManagedProcess) => void): Promise<TemporalCluster> {
  // PostgreSQL runs as an unprivileged user, who must reach its data directory inside this one.
  chmodSync(workDir, 0o755);
  const tools = clusterToolPaths(repoRoot);
  const cluster = await startTemporalCluster({
    tools,
    dataDir: path.join(workDir, 'cluster'),
    logDir: path.join(workDir, 'logs'),
    namespaces,
    searchAttributes: searchAttributeDefinitions,
    onSpawn,
  });
  const info: TestClusterInfo = {
    serverBin: tools.serverBin,
    configDir: path.join(workDir, 'cluster', 'config'),
    logDir: path.join(workDir, 'logs'),
    processes: Object.fromEntries([...cluster.processes].map(([name, p]) => [name, { pid: p.child.pid!, role: cluster.specs.find((s) => s.name === name)!.role }])),
  };
  process.env.OPTINFLOW_TEST_CLUSTER = JSON.stringify(info);
  return cluster;
}
