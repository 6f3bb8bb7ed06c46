import readline from 'node:readline';

/**
 * Runs beside `npm start`'s supervisor to stop the stack when the supervisor cannot: killed with
 * SIGKILL, or crashed past its own handlers. The supervisor writes `watch <pgid>` on our stdin for
 * each component it starts and `forget <pgid>` once it has stopped it. When stdin closes (the
 * kernel closes it when the supervisor dies, however it dies), every group still watched is
 * stopped the way the supervisor stops them: SIGTERM, SIGKILL after the grace period.
 *
 * Spawned in a session of its own (dev/watchdog.ts), so a Ctrl-C or a closed terminal reaches the
 * supervisor, which stops the stack cleanly, and not this process.
 */

const graceMs = Number(process.argv[2] ?? 5_000);
const watched = new Set<number>();

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

async function waitForGroups(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && [...watched].some((pgid) => signalGroup(pgid, 0))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopWatchedGroups(): Promise<void> {
  if (watched.size > 0) {
    process.stderr.write(`[watchdog] the supervisor is gone: stopping ${watched.size} process group(s) it left running\n`);
  }
  for (const pgid of watched) signalGroup(pgid, 'SIGTERM');
  await waitForGroups(graceMs);
  for (const pgid of watched) signalGroup(pgid, 'SIGKILL');
  await waitForGroups(2_000);
  process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, value] = line.trim().split(/\s+/);
  const pgid = Number(value);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (command === 'watch') watched.add(pgid);
  else if (command === 'forget') watched.delete(pgid);
});
lines.on('close', () => void stopWatchedGroups());
