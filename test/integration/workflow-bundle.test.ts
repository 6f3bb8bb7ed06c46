import { readFileSync } from 'node:fs';
import { testWorkflowBundle } from '../harness/servers';

/**
 * Every worker loads the workflow bundle into each workflow's isolate context, so what it carries is
 * paid per cached workflow: only Temporal's workflow runtime, the workflows and the pure rules they use.
 */

const bundle = readFileSync(testWorkflowBundle().codePath, 'utf8');
const modules = [...bundle.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]);

test('the bundle the worker runs is the one global setup built, with the workflows in it', () => {
  expect(modules).toEqual(expect.arrayContaining(['./workflows/index.ts', './workflows/journey/workflow.ts']));
});

test('the workflow bundle carries no library but Temporal’s workflow runtime and what it depends on', () => {
  const libraries = [...new Set(modules.filter((m) => m.includes('node_modules/')).map((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)![1]))].sort();
  // zod (our input schemas), mongoose or twilio here would be loaded into every workflow's context.
  expect(libraries).toEqual(['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc']);
});

test('the workflow bundle imports nothing that does I/O', () => {
  // Webpack names the Node built-ins Temporal's bundler stubs out "?<hash>".
  const ours = modules.filter((m) => !m.includes('node_modules/') && !m.startsWith('?'));
  expect(ours.filter((m) => !/^\.\/(workflows|domain)\//.test(m))).toEqual([]);
});
