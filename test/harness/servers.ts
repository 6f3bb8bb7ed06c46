import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporalClientInterceptors } from '../../lib/temporal-interceptors';

/**
 * What integration tests use to reach the servers test/harness/global-setup.ts started. Each
 * test file isolates itself with names from uniqueName(): its own database, its own task queue,
 * its own workflow ids, so files can run in parallel against the same servers.
 */

function harnessValue(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: integration tests must run through jest's 'integration' project, whose globalSetup (test/harness/global-setup.ts) starts the servers`);
  }
  return value;
}

export function testTemporalAddress(): string {
  return harnessValue('OPTINFLOW_TEST_TEMPORAL_ADDRESS');
}

let claimedNamespace: string | undefined;

/**
 * The namespace of this test file. With the harness's own dev server, each file claims one of the
 * namespaces created at start (an exclusive lock file per namespace), so workflow ids never collide
 * across files; against an external server (TEMPORAL_ADDRESS) every file shares its namespace.
 */
export function testTemporalNamespace(): string {
  if (claimedNamespace) return claimedNamespace;
  const pool = process.env.OPTINFLOW_TEST_TEMPORAL_NAMESPACES;
  const lockDir = process.env.OPTINFLOW_TEST_LOCK_DIR;
  if (!pool || !lockDir) return (claimedNamespace = process.env.OPTINFLOW_TEST_TEMPORAL_NAMESPACE || 'default');
  for (const ns of pool.split(',')) {
    try {
      closeSync(openSync(path.join(lockDir, `${ns}.lock`), 'wx'));
      return (claimedNamespace = ns);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`all ${pool.split(',').length} test namespaces are taken: add more in test/harness/global-setup.ts`);
}

const mongoUriParts = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/;

/** The same server and options with another database (or none, for an empty name). */
export function withDatabase(uri: string, dbName: string): string {
  const match = mongoUriParts.exec(uri);
  if (!match) throw new Error(`not a MongoDB connection string: ${uri}`);
  return `${match[1]}/${dbName}${match[3] ?? ''}`;
}

export function testMongoUri(dbName: string): string {
  return withDatabase(harnessValue('OPTINFLOW_TEST_MONGODB_URI'), dbName);
}

/** The prebuilt bundle of workflows/index.ts, for Worker.create({ workflowBundle }). */
export function testWorkflowBundle(): { codePath: string } {
  return { codePath: harnessValue('OPTINFLOW_TEST_WORKFLOW_BUNDLE') };
}

/** Short and safe as a database name, a task queue or a workflow id prefix. */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30);
  return `${safePrefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function connectTestClient(): Promise<TestClient> {
  const connection = await Connection.connect({ address: testTemporalAddress(), interceptors: temporalClientInterceptors() });
  const client = new Client({ connection, namespace: testTemporalNamespace() });
  return { client, connection, close: () => connection.close() };
}
