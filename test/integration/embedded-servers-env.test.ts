import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { embeddedGoMaxProcs } from '../../dev/go-env';
import { startFerretDb, startTemporalDevServer, type FerretDbServer, type TemporalDevServer } from '../../dev/servers';

/**
 * The embedded Go servers start with the garbage-collector target EMBEDDED_GOGC asks for (200 by
 * default) and the thread count EMBEDDED_GOMAXPROCS asks for (half the cores by default).
 */

jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const bin = (name: string, envVar: string) => process.env[envVar] || path.join(repoRoot, '.tools', 'bin', name);

/** The process's GOGC and GOMAXPROCS, as its environment holds them. */
function goEnvOf(pid: number): Array<string | undefined> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return ['GOGC', 'GOMAXPROCS'].map((name) => entries.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1));
}

let dir: string;
const running: Array<FerretDbServer | TemporalDevServer> = [];
/** Kept as each one starts, so that one failing to start leaves none of the others running. */
const kept = <S extends FerretDbServer | TemporalDevServer>(server: S): S => {
  running.push(server);
  return server;
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-gogc-'));
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('FerretDB and the Temporal dev server run with EMBEDDED_GOGC and EMBEDDED_GOMAXPROCS, and with 200 and half the cores when they are unset', async () => {
  const env = { ...process.env };
  for (const name of ['GOGC', 'EMBEDDED_GOGC', 'GOMAXPROCS', 'EMBEDDED_GOMAXPROCS']) delete env[name];
  const [ferretDefault, ferretSet, temporalSet] = await Promise.all([
    findFreePort().then((port) => startFerretDb({ bin: bin('ferretdb', 'FERRETDB_PATH'), port, dataDir: path.join(dir, 'a'), env }).then(kept)),
    findFreePort().then((port) => startFerretDb({ bin: bin('ferretdb', 'FERRETDB_PATH'), port, dataDir: path.join(dir, 'b'), env: { ...env, EMBEDDED_GOGC: '300', EMBEDDED_GOMAXPROCS: '3' } }).then(kept)),
    findFreePort().then((port) => startTemporalDevServer({ bin: bin('temporal', 'TEMPORAL_CLI_PATH'), port, uiPort: 'headless', env: { ...env, EMBEDDED_GOGC: '300', EMBEDDED_GOMAXPROCS: '3' } }).then(kept)),
  ]);
  // Half the cores is the default's rule (test/unit/embedded-go-env.test.ts); here, that it reaches the process.
  expect(goEnvOf(ferretDefault.child.pid!)).toEqual(['200', embeddedGoMaxProcs({})]);
  expect(goEnvOf(ferretSet.child.pid!)).toEqual(['300', '3']);
  expect(goEnvOf(temporalSet.child.pid!)).toEqual(['300', '3']);
});
