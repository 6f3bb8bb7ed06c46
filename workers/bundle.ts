import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadSandboxSettings } from '../config/config';
import { sandboxPreloads } from './bundle-options';

/** Writes the production workflow bundle; point WORKFLOW_BUNDLE_PATH at the file. WORKER_WORKFLOW_STACK_TRACES=on when building keeps stack frames. */
async function main(): Promise<void> {
  const out = process.argv[2] ?? 'dist/workflow-bundle.js';
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), preloadModules: sandboxPreloads(loadSandboxSettings().WORKER_WORKFLOW_STACK_TRACES === 'on') });
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
