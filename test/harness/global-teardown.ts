import { rmSync } from 'node:fs';
import { stopHarness } from './global-setup';

/** Stops what global-setup started and removes its temporary directory (logs included). */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__optinflowHarness;
  if (!state) return;
  globalThis.__optinflowHarness = undefined;
  await stopHarness(state);
  rmSync(state.workDir, { recursive: true, force: true });
}
