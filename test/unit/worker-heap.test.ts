import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { WORKER_HEAP_LIMIT_MIB, withWorkerHeapLimit } from '../../dev/worker-heap';

/** The heap limit, in MiB, of a node process started with env and of a thread it starts. */
function heapLimitsMiB(env: NodeJS.ProcessEnv): { main: number; thread: number } {
  const script = `
    const v8 = require('node:v8');
    const { Worker } = require('node:worker_threads');
    const mib = () => Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
    new Worker("require('node:worker_threads').parentPort.postMessage(Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 1048576))", { eval: true })
      .on('message', (thread) => { console.log(JSON.stringify({ main: mib(), thread })); process.exit(0); });
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }));
}

test('puts the default limit first and keeps what NODE_OPTIONS already had after it', () => {
  expect(withWorkerHeapLimit({}).NODE_OPTIONS).toBe(`--max-old-space-size=${WORKER_HEAP_LIMIT_MIB}`);
  expect(withWorkerHeapLimit({ NODE_OPTIONS: ' --enable-source-maps ', PATH: '/bin' })).toEqual({ NODE_OPTIONS: `--max-old-space-size=${WORKER_HEAP_LIMIT_MIB} --enable-source-maps`, PATH: '/bin' });
});

test('bounds both the main thread and the workflow thread, and an operator limit in NODE_OPTIONS wins', () => {
  // heap_size_limit is the old generation plus the young one, so it sits a little above the flag.
  const bounded = heapLimitsMiB(withWorkerHeapLimit({ PATH: process.env.PATH }));
  expect(bounded.main).toBeGreaterThanOrEqual(WORKER_HEAP_LIMIT_MIB);
  expect(bounded.main).toBeLessThan(WORKER_HEAP_LIMIT_MIB + 128);
  expect(bounded.thread).toBe(bounded.main);

  const operator = heapLimitsMiB(withWorkerHeapLimit({ PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=1024' }));
  expect(operator.main).toBeGreaterThanOrEqual(1024);
  expect(operator.thread).toBe(operator.main);
});

test('`npm run worker` starts the worker with the same limit, ahead of the operator\'s NODE_OPTIONS', () => {
  const scripts = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.worker).toContain(`NODE_OPTIONS="${withWorkerHeapLimit({}).NODE_OPTIONS} \${NODE_OPTIONS:-}"`);
});
