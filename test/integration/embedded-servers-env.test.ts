import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../dev/free-port';
import { startFerretDb, startTemporalDevServer, type FerretDbServer, type TemporalDevServer } from '../../dev/servers';

/** The embedded Go servers start with the garbage-collector target EMBEDDED_GOGC asks for (200 by default). */

jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const bin = (name: string, envVar: string) => process.env[envVar] || path.join(repoRoot, '.tools', 'bin', name);

function goGcOf(pid: number): string | undefined {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return entries.find((e) => e.startsWith('GOGC='))?.slice('GOGC='.length);
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

test('FerretDB and the Temporal dev server run with EMBEDDED_GOGC, and with 200 when it is unset', async () => {
  const env = { ...process.env };
  delete env.GOGC;
  delete env.EMBEDDED_GOGC;
  const [ferretDefault, ferretSet, temporalSet] = await Promise.all([
    findFreePort().then((port) => startFerretDb({ bin: bin('ferretdb', 'FERRETDB_PATH'), port, dataDir: path.join(dir, 'a'), env }).then(kept)),
    findFreePort().then((port) => startFerretDb({ bin: bin('ferretdb', 'FERRETDB_PATH'), port, dataDir: path.join(dir, 'b'), env: { ...env, EMBEDDED_GOGC: '300' } }).then(kept)),
    findFreePort().then((port) => startTemporalDevServer({ bin: bin('temporal', 'TEMPORAL_CLI_PATH'), port, uiPort: 'headless', env: { ...env, EMBEDDED_GOGC: '300' } }).then(kept)),
  ]);
  expect(goGcOf(ferretDefault.child.pid!)).toBe('200');
  expect(goGcOf(ferretSet.child.pid!)).toBe('300');
  expect(goGcOf(temporalSet.child.pid!)).toBe('300');
});
