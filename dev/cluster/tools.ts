import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the cluster profile's tools are: what `npm run tools -- --cluster` installs into `.tools`,
 * and Debian's PostgreSQL. The one place `npm start`, the test harness and the benchmarks learn them
 * from, so a path or an override variable changes in one file.
 */

export interface ClusterToolPaths {
  /** go.temporal.io/server's cmd/server (TEMPORAL_SERVER_PATH overrides). */
  serverBin: string;
  /** Its schema tool, cmd/tools/sql (TEMPORAL_SQL_TOOL_PATH overrides). */
  sqlToolBin: string;
  /** The server version's schema/postgresql/v12 directory. */
  schemaDir: string;
  /** The Temporal UI server (TEMPORAL_UI_SERVER_PATH overrides); optional: the profile runs without it. */
  uiServerBin: string;
  /** PostgreSQL's bin directory (POSTGRES_BIN_DIR overrides), or undefined when none is installed. */
  postgresBinDir: string | undefined;
}

/** POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/<major>/bin, else undefined. */
function findPostgresBinDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.POSTGRES_BIN_DIR) return env.POSTGRES_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(path.join(root, d, 'bin', 'postgres'))) : [];
  return majors.length === 0 ? undefined : path.join(root, majors.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

export function clusterToolPaths(repoRoot: string, env: NodeJS.ProcessEnv = process.env): ClusterToolPaths {
  const tools = path.join(repoRoot, '.tools');
  return {
    serverBin: env.TEMPORAL_SERVER_PATH || path.join(tools, 'bin', 'temporal-server'),
    sqlToolBin: env.TEMPORAL_SQL_TOOL_PATH || path.join(tools, 'bin', 'temporal-sql-tool'),
    schemaDir: path.join(tools, 'temporal-schema'),
    uiServerBin: env.TEMPORAL_UI_SERVER_PATH || path.join(tools, 'bin', 'temporal-ui-server'),
    postgresBinDir: findPostgresBinDir(env),
  };
}

/** What of the required tools is missing, each as "<what> at <path>"; empty when the profile can start. */
export function missingClusterTools(tools: ClusterToolPaths): string[] {
  const missing: string[] = [];
  if (!existsSync(tools.serverBin)) missing.push(`the Temporal server at ${tools.serverBin}`);
  if (!existsSync(tools.sqlToolBin)) missing.push(`the Temporal SQL tool at ${tools.sqlToolBin}`);
  if (!existsSync(path.join(tools.schemaDir, 'temporal', 'versioned'))) missing.push(`the Temporal PostgreSQL schema at ${tools.schemaDir}`);
  if (!tools.postgresBinDir) missing.push('PostgreSQL (/usr/lib/postgresql/<major>/bin, or POSTGRES_BIN_DIR)');
  return missing;
}
