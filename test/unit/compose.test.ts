import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configShape } from '../../config/config';
import { DYNAMIC_CONFIG_YAML } from '../../dev/cluster/config';
import { withWorkerHeapLimit } from '../../dev/worker-heap';
import { searchAttributeDefinitions } from '../../workflows/search-attributes';

/**
 * docker-compose.yml is not run here (no Docker engine), so it is checked against the code it
 * configures: every variable given to the worker and the API is a setting config/config.ts
 * reads, every required setting is given, and every value given is one the schema accepts.
 */

/** Read by the runtime (Node, glibc), not by the application. */
const notAppSettings = new Set(['NODE_ENV', 'MALLOC_ARENA_MAX', 'NODE_OPTIONS']);

/** Settings only one entry reads, with no effect on the other. */
const onlyFor: Record<string, string> = { WORKFLOW_BUNDLE_PATH: 'worker', API_HOST: 'api', API_PORT: 'api', NODE_OPTIONS: 'worker' };

type ConfigKey = keyof typeof configShape;

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  cpu_shares?: number;
}

const compose = parse(readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

const requiredSettings = (Object.keys(configShape) as ConfigKey[]).filter((key) => !configShape[key].safeParse(undefined).success);

/** `${NAME:?message}`: compose refuses to start until the user supplies NAME. */
const userSupplied = /^\$\{(\w+):\?[^}]*\}$/;
/** `${NAME:-default}`: the default applies when the user supplies nothing. */
const withDefault = /^\$\{(\w+):-([^}]*)\}$/;

describe.each(['worker', 'api'])('the %s service in docker-compose.yml', (name) => {
  const service = compose.services[name];
  const env = environmentOf(service);

  it('is built from the repository Dockerfile and runs its own entry', () => {
    expect(service.build).toBe('.');
    expect(service.command).toEqual(['node_modules/.bin/tsx', name === 'worker' ? 'workers/main.ts' : 'api/server.ts']);
  });

  it('sets only variables that config/config.ts reads (or the documented extras)', () => {
    const unknown = Object.keys(env).filter((key) => !(key in configShape) && !notAppSettings.has(key));
    expect(unknown).toEqual([]);
    const misplaced = Object.keys(env).filter((key) => onlyFor[key] !== undefined && onlyFor[key] !== name);
    expect(misplaced).toEqual([]);
  });

  it('supplies every required setting', () => {
    expect(requiredSettings.length).toBeGreaterThan(0);
    expect(requiredSettings.filter((key) => !(key in env))).toEqual([]);
  });

  it('gives each setting a value its schema accepts, or asks the user for it by its own name', () => {
    const problems: string[] = [];
    for (const [key, raw] of Object.entries(env)) {
      if (!(key in configShape)) continue;
      const supplied = userSupplied.exec(raw);
      if (supplied) {
        if (supplied[1] !== key) problems.push(`${key} asks the user for ${supplied[1]}`);
        continue;
      }
      const value = withDefault.exec(raw)?.[2] ?? raw;
      const parsed = configShape[key as ConfigKey].safeParse(value);
      if (!parsed.success) problems.push(`${key}=${value}: ${parsed.error.issues.map((i) => i.message).join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('reaches the Temporal and MongoDB services of the same file', () => {
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const replicaSet = compose.services.mongodb.command as string[];
    expect(env.MONGODB_URI).toBe(`mongodb://mongodb:27017/optinflow?replicaSet=${replicaSet[replicaSet.indexOf('--replSet') + 1]}`);
  });
});

describe('docker-compose.yml Temporal setup', () => {
  it('registers exactly the search attributes the workflows use', () => {
    const registered = environmentOf(compose.services['temporal-setup']).OPTIN_SEARCH_ATTRIBUTES.split(/\s+/).filter(Boolean);
    expect(registered.sort()).toEqual(searchAttributeDefinitions.map((d) => d.name).sort());
    expect(new Set(searchAttributeDefinitions.map((d) => d.type))).toEqual(new Set(['Keyword']));
  });

  it('runs the server with the matcher that dispatches by priority, as the dev server and the cluster profile do', () => {
    const temporal = compose.services.temporal as ComposeService & { volumes?: string[] };
    const configPath = environmentOf(temporal).DYNAMIC_CONFIG_FILE_PATH;
    const mount = (temporal.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === configPath);
    expect(mount).toBeDefined();
    const dynamic = parse(readFileSync(path.join(__dirname, '..', '..', mount![0]), 'utf8')) as Record<string, { value: unknown }[]>;
    expect(dynamic['matching.useNewMatcher']).toEqual([{ value: true }]);
    expect((parse(DYNAMIC_CONFIG_YAML) as Record<string, { value: unknown }[]>)['matching.useNewMatcher']).toEqual([{ value: true }]);
  });
});

test('the worker service starts with the heap limit every other launcher gives the worker', () => {
  expect(environmentOf(compose.services.worker).NODE_OPTIONS).toBe(withWorkerHeapLimit({}).NODE_OPTIONS);
});

test('the worker has a lower CPU weight than the API, as WORKER_NICE gives it on the local stack', () => {
  // Docker's default weight is 1024.
  expect(compose.services.worker.cpu_shares).toBe(256);
  expect(compose.services.api.cpu_shares ?? 1024).toBe(1024);
});
