/**
 * The Temporal server's configuration for the cluster profile: one file per process, since every
 * process of a cluster reads the same layout but listens on its own ports. Pure: no I/O here.
 */

export type ClusterRole = 'frontend' | 'history' | 'matching' | 'worker';

export interface ClusterProcessSpec {
  /** The config file's name (`--env`), the log file's name and how logs and errors name the process. */
  name: string;
  role: ClusterRole;
  grpcPort: number;
  membershipPort: number;
  /** The frontend's HTTP API. */
  httpPort?: number;
}

export interface ClusterConfigInput {
  host: string;
  postgres: { host: string; port: number; user: string };
  historyShards: number;
  /** Every process of the cluster; the frontend's address is what clients dial. */
  processes: ClusterProcessSpec[];
  dynamicConfigFile: string;
}

export const TEMPORAL_DATABASE = 'temporal';
export const VISIBILITY_DATABASE = 'temporal_visibility';

/** Two history hosts share the shards; losing one moves its shards to the other. */
export function clusterProcessSpecs(ports: number[]): ClusterProcessSpec[] {
  if (ports.length < 11) throw new Error('the cluster needs 11 ports');
  return [
    { name: 'frontend', role: 'frontend', grpcPort: ports[0], membershipPort: ports[1], httpPort: ports[2] },
    { name: 'history-1', role: 'history', grpcPort: ports[3], membershipPort: ports[4] },
    { name: 'history-2', role: 'history', grpcPort: ports[5], membershipPort: ports[6] },
    { name: 'matching', role: 'matching', grpcPort: ports[7], membershipPort: ports[8] },
    { name: 'worker', role: 'worker', grpcPort: ports[9], membershipPort: ports[10] },
  ];
}

function datastore(input: ClusterConfigInput, database: string, maxConns: number): string {
  const { host, port, user } = input.postgres;
  return [
    `      sql:`,
    `        pluginName: "postgres12"`,
    `        databaseName: "${database}"`,
    `        connectAddr: "${host}:${port}"`,
    `        connectProtocol: "tcp"`,
    `        user: "${user}"`,
    `        password: ""`,
    `        maxConns: ${maxConns}`,
    `        maxIdleConns: ${maxConns}`,
    `        maxConnLifetime: "1h"`,
  ].join('\n');
}

/**
 * The config one process reads. Each names its own role's ports; the others' entries are only there
 * because the server expects every service block. Membership goes through the database (ringpop
 * seeds from the cluster_membership table), so the processes find each other with no seed list.
 */
export function serverConfigYaml(input: ClusterConfigInput, self: ClusterProcessSpec): string {
  const frontend = input.processes.find((p) => p.role === 'frontend');
  if (!frontend) throw new Error('a cluster needs a frontend');
  const portsOf = (role: ClusterRole) => (self.role === role ? self : input.processes.find((p) => p.role === role)!);
  const service = (role: ClusterRole) => {
    const p = portsOf(role);
    return [
      `  ${role}:`,
      `    rpc:`,
      `      grpcPort: ${p.grpcPort}`,
      `      membershipPort: ${p.membershipPort}`,
      `      bindOnIP: "${input.host}"`,
      ...(p.httpPort ? [`      httpPort: ${p.httpPort}`] : []),
    ].join('\n');
  };
  return `# Written by dev/cluster at start: the ${self.name} process (${self.role}).
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${input.historyShards}
  datastores:
    postgres-default:
${datastore(input, TEMPORAL_DATABASE, 20)}
    postgres-visibility:
${datastore(input, VISIBILITY_DATABASE, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${input.host}"

services:
${service('frontend')}
${service('history')}
${service('matching')}
${service('worker')}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${input.host}:${frontend.grpcPort}"
      httpAddress: "${input.host}:${frontend.httpPort ?? frontend.grpcPort}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${input.dynamicConfigFile}"
  pollInterval: "10s"
`;
}

/**
 * Dynamic config: the settings of the dev server the product relies on (update-with-start, long ids)
 * and quick namespace and search-attribute propagation, so a namespace made at start is usable soon.
 */
export const DYNAMIC_CONFIG_YAML = `limit.maxIDLength:
  - value: 255
frontend.enableExecuteMultiOperation:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.namespaceRPS.visibility:
  - value: 500
matching.useNewMatcher:
  - value: true
`;
