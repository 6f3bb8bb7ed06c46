import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The supervisor's side of dev/watchdog-main.ts: components are spawned as leaders of their own
 * process groups (dev/processes.ts), so nothing stops them when the supervisor is killed with
 * SIGKILL. The watchdog does; it learns their groups from us over a pipe that the kernel closes
 * when we die.
 */
export interface Watchdog {
  readonly pid: number | undefined;
  /** Resolves if the watchdog exits; while the stack runs, that leaves it unguarded. */
  readonly exited: Promise<void>;
  /** A component's process group (its leader's pid), to stop if the supervisor dies. */
  watch(pgid: number | undefined): void;
  /** The group has been stopped by the supervisor: the pid may be reused. */
  forget(pgid: number | undefined): void;
  /** Everything is stopped: the watchdog exits without touching anything. */
  release(): void;
}

export function startWatchdog(graceMs: number): Watchdog {
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', loader, path.join(__dirname, 'watchdog-main.ts'), String(graceMs)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // Neither the process nor the pipe may keep the supervisor alive.
  child.unref();
  const pipe = child.stdin!;
  (pipe as unknown as { unref?: () => void }).unref?.();
  pipe.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const send = (line: string) => {
    if (!pipe.destroyed && pipe.writable) pipe.write(`${line}\n`);
  };
  return {
    pid: child.pid,
    exited,
    watch(pgid) {
      if (pgid !== undefined) send(`watch ${pgid}`);
    },
    forget(pgid) {
      if (pgid !== undefined) send(`forget ${pgid}`);
    },
    release: () => pipe.end(),
  };
}
