import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { canConnect, findFreePort } from '../free-port';
import { spawnManaged, waitUntil, type ManagedProcess } from '../processes';
import { type SearchAttributeDefinition } from '../servers';
import { clusterProcessSpecs, DYNAMIC_CONFIG_YAML, serverConfigYaml, TEMPORAL_DATABASE, VISIBILITY_DATABASE, type ClusterConfigInput, type ClusterProcessSpec } from './config';
import { startPostgres, type PostgresServer } from './postgres';
import { missingClusterTools, type ClusterToolPaths } from './tools';

/**
 * The cluster profile: the real Temporal server (`go.temporal.io/server`, not the CLI's dev server)
 * on PostgreSQL, as five processes in one membership ring: a frontend, two history hosts sharing the
 * history shards, matching and the internal worker service. Used by `npm start -- --cluster` and by
 * the test harness when OPTINFLOW_TEST_TEMPORAL=cluster.
 */

const run = promisify(execFile);

export interface TemporalClusterOptions {
  /** clusterToolPaths(repoRoot): the server, its SQL tool and schema, PostgreSQL. */
  tools: ClusterToolPaths;
  dataDir: string;
  logDir: string;
  host?: string;
  /** The frontend's port (what clients dial); the other ports are free ones. */
  frontendPort?: number;
  postgresPort?: number;
  historyShards?: number;
  namespaces: readonly string[];
  searchAttributes: readonly SearchAttributeDefinition[];
  readyTimeoutMs?: number;
  onSpawn?: (process: ManagedProcess) => void;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  postgres: PostgresServer;
  /** Each server process by name: frontend, history-1, history-2, matching, worker. */
  processes: Map<string, ManagedProcess>;
  specs: ClusterProcessSpec[];
  /** Which history host holds which shards, from the hosts' own logs (the last acquisition of each shard). */
  shardOwners(): Map<string, number[]>;
  stop(): Promise<void>;
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Free ports below 32768: the server keeps membership ports in a PostgreSQL smallint column, so
 * the ephemeral ports the OS hands out (32768 and up on Linux) fail its first heartbeat.
 */
async function freeLowPorts(n: number, host: string): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n; tries++) {
    if (tries > 2_000) throw new Error('no free ports between 20000 and 32000');
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.has(port) && (await canBind(port, host))) ports.add(port);
  }
  return [...ports];
}

/** Creates both databases and brings their schemas to this server version; safe to run on every start. */
async function migrate(opts: TemporalClusterOptions, pg: PostgresServer): Promise<void> {
  const marker = path.join(opts.dataDir, 'schema-created');
  const base = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user];
  for (const [database, dir] of [
    [TEMPORAL_DATABASE, 'temporal'],
    [VISIBILITY_DATABASE, 'visibility'],
  ] as const) {
    if (!existsSync(`${marker}.${database}`)) {
      await run(opts.tools.sqlToolBin, [...base, '--db', database, 'create-database']);
      await run(opts.tools.sqlToolBin, [...base, '--db', database, 'setup-schema', '-v', '0.0']);
      writeFileSync(`${marker}.${database}`, new Date().toISOString());
    }
    await run(opts.tools.sqlToolBin, [...base, '--db', database, 'update-schema', '-d', path.join(opts.tools.schemaDir, dir, 'versioned')]);
  }
}

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

async function registerNamespaces(address: string, namespaces: readonly string[], searchAttributes: readonly SearchAttributeDefinition[]): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const wanted = Object.fromEntries(searchAttributes.map((a) => [a.name, KEYWORD]));
    if (searchAttributes.some((a) => a.type !== 'Keyword')) throw new Error('the cluster profile registers Keyword search attributes only');
    for (const namespace of namespaces) {
      await connection.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
        .catch((err: { code?: number }) => {
          if (err.code !== 6) throw err; // ALREADY_EXISTS: an earlier start made it
        });
    }
    for (const namespace of namespaces) {
      await waitUntil(
        async () => {
          try {
            await connection.workflowService.describeNamespace({ namespace });
            const have = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
            const missing = searchAttributes.filter((a) => !(a.name in have));
            if (missing.length === 0) return true;
            await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((a) => [a.name, wanted[a.name]])) });
            return false;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, intervalMs: 500, what: `namespace ${namespace} and its search attributes on the cluster` },
      );
    }
  } finally {
    await connection.close();
  }
}

function shardOwnersFromLogs(logDir: string, specs: ClusterProcessSpec[]): Map<string, number[]> {
  const last = new Map<number, { host: string; at: string }>();
  for (const spec of specs.filter((s) => s.role === 'history')) {
    const file = path.join(logDir, `temporal-${spec.name}.log`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('Acquired shard')) continue;
      try {
        const entry = JSON.parse(line) as { 'shard-id'?: number; ts?: string };
        if (entry['shard-id'] === undefined) continue;
        const prior = last.get(entry['shard-id']);
        if (!prior || (entry.ts ?? '') >= prior.at) last.set(entry['shard-id'], { host: spec.name, at: entry.ts ?? '' });
      } catch {
        // not a JSON log line
      }
    }
  }
  const owners = new Map<string, number[]>(specs.filter((s) => s.role === 'history').map((s) => [s.name, []]));
  for (const [shard, { host }] of [...last].sort((a, b) => a[0] - b[0])) owners.get(host)!.push(shard);
  return owners;
}

export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalCluster> {
  const host = opts.host ?? '127.0.0.1';
  const missing = missingClusterTools(opts.tools);
  if (missing.length > 0) throw new Error(`not found: ${missing.join('; ')}: run 'npm run tools -- --cluster'`);
  mkdirSync(opts.dataDir, { recursive: true });
  const started: ManagedProcess[] = [];
  const watch = (p: ManagedProcess) => {
    started.push(p);
    opts.onSpawn?.(p);
    return p;
  };
  const stopAll = async () => {
    for (const p of [...started].reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const postgres = await startPostgres({
      binDir: opts.tools.postgresBinDir!,
      dataDir: path.join(opts.dataDir, 'postgres'),
      host,
      port: opts.postgresPort ?? (await findFreePort(host)),
      logFile: path.join(opts.logDir, 'postgres.log'),
      onSpawn: watch,
    });
    await migrate(opts, postgres);

    const ports = await freeLowPorts(11, host);
    if (opts.frontendPort) ports[0] = opts.frontendPort;
    const specs = clusterProcessSpecs(ports);
    const configDir = path.join(opts.dataDir, 'config');
    mkdirSync(configDir, { recursive: true });
    const dynamicConfigFile = path.join(configDir, 'dynamic.yaml');
    writeFileSync(dynamicConfigFile, DYNAMIC_CONFIG_YAML);
    const input: ClusterConfigInput = { host, postgres, historyShards: opts.historyShards ?? 8, processes: specs, dynamicConfigFile };
    const processes = new Map<string, ManagedProcess>();
    const frontend = specs[0];
    const address = `${host}:${frontend.grpcPort}`;
    for (const spec of specs) {
      const yaml = serverConfigYaml(input, spec);
      // History hosts log at info: their "Acquired shard" lines are how shardOwners() sees the ring.
      writeFileSync(path.join(configDir, `${spec.name}.yaml`), spec.role === 'history' ? yaml.replace('level: warn', 'level: info') : yaml);
      const args = ['--root', configDir, '--config', '.', '--env', spec.name, '--allow-no-auth', 'start', '--service', spec.role];
      processes.set(spec.name, watch(spawnManaged({ name: `Temporal ${spec.name}`, command: opts.tools.serverBin, args, logFile: path.join(opts.logDir, `temporal-${spec.name}.log`) })));
      // Every process writes the cluster's metadata on a fresh database, and two at once clash on its
      // key ("duplicate key ... cluster_metadata_info_pkey") and one exits: the frontend goes first,
      // and the rest start once it listens (it has written the metadata by then).
      if (spec === frontend) {
        await waitUntil(() => canConnect(frontend.grpcPort, host), { timeoutMs: opts.readyTimeoutMs ?? 120_000, what: `the Temporal frontend on ${address}`, process: processes.get('frontend') });
      }
    }
    await waitUntil(() => canConnect(frontend.grpcPort, host), { timeoutMs: opts.readyTimeoutMs ?? 120_000, what: `the Temporal frontend on ${address}`, process: processes.get('frontend') });
    await registerNamespaces(address, ['default', ...opts.namespaces.filter((n) => n !== 'default')], opts.searchAttributes);
    return {
      address,
      namespace: 'default',
      postgres,
      processes,
      specs,
      shardOwners: () => shardOwnersFromLogs(opts.logDir, specs),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
