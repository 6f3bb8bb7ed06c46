import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The API's and the worker's entry points outlive a promise rejected with no handler, log it masked, and count it. */

const repoRoot = path.join(__dirname, '..', '..');
const fixture = path.join(repoRoot, 'test', 'fixtures', 'unhandled-rejection.ts');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), fixture, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return { status: r.status, lines, stderr: r.stderr };
}

test('without the guard Node ends the process on the rejection', () => {
  const r = run();
  expect(r.status).not.toBe(0);
  expect(r.lines.find((l) => l.alive)).toBeUndefined();
  expect(r.stderr).toContain('the store refused the write');
});

test('with it the process goes on, and the rejection is logged with the contact masked, and counted', () => {
  const r = run('guarded');
  expect(r.status).toBe(0);
  const logged = r.lines.find((l) => l.level === 50);
  expect(logged).toMatchObject({ msg: 'a promise rejected with no handler; the process goes on' });
  expect(JSON.stringify(logged)).toContain('the store refused the write for [phone]');
  expect(JSON.stringify(logged)).not.toContain('4155550123');
  const alive = r.lines.find((l) => l.alive);
  expect(alive.counter).toMatch(/^optinflow_unhandled_rejections_total 1$/m);
});
