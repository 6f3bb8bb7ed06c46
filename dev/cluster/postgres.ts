import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { canConnect } from '../free-port';
import { spawnManaged, waitUntil, type ManagedProcess } from '../processes';

/**
 * A PostgreSQL server for the cluster profile, in a data directory of ours (`.data/cluster/postgres`),
 * not the distribution's own cluster. PostgreSQL refuses to run as root, and these machines run as
 * root: then it runs as the `postgres` user the Debian package creates (or `nobody`).
 */

export const POSTGRES_USER = 'temporal';

export interface PostgresOptions {
  /** PostgreSQL's bin directory (clusterToolPaths). */
  binDir: string;
  dataDir: string;
  host: string;
  port: number;
  logFile: string;
  onSpawn?: (process: ManagedProcess) => void;
}

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  process: ManagedProcess;
}

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists: PostgreSQL cannot run as root');
}

export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const bin = options.binDir;
  const runAs = unprivilegedUser();
  const dir = path.join(options.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    // Trust on loopback only: the server listens on the stack's host and nowhere else.
    execFileSync(path.join(bin, 'initdb'), ['-D', dir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--no-instructions'], {
      stdio: 'pipe',
      ...(runAs ?? {}),
    });
  }
  const args = ['-D', dir, '-p', String(options.port), '-k', dir, '-c', `listen_addresses=${options.host}`, '-c', 'max_connections=400'];
  const server = spawnManaged({ name: 'PostgreSQL', command: path.join(bin, 'postgres'), args, logFile: options.logFile, ...(runAs ?? {}) });
  options.onSpawn?.(server);
  try {
    await waitUntil(() => canConnect(options.port, options.host), { timeoutMs: 60_000, what: `PostgreSQL to accept connections on ${options.port}`, process: server });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { host: options.host, port: options.port, user: POSTGRES_USER, process: server };
}
