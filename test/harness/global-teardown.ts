import { rmSync } from 'node:fs';

/** Stops what global-setup started and removes its temporary directory (logs included). */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__optinflowHarness;
  if (!state) return;
  globalThis.__optinflowHarness = undefined;
  await Promise.all([state.temporal?.stop(), state.ferret?.stop()]);
  rmSync(state.workDir, { recursive: true, force: true });
}
