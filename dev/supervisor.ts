/** The supervisor's side of `npm start`: its console lines, where it keeps logs, and the Stack that stops every component when one dies. */
import path from 'node:path';
import { describeExit, type ManagedProcess } from './processes';
import type { StackSettings } from './ports';
import type { Watchdog } from './watchdog';

export const repoRoot = path.resolve(__dirname, '..');
export const say = (line: string) => process.stdout.write(`[start] ${line}\n`);
export const complain = (line: string) => process.stderr.write(`[start] ${line}\n`);

export class Stack {
  private readonly running: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly watchdog: Watchdog) {
    void watchdog.exited.then(() => {
      if (this.stopping) return;
      complain('the watchdog exited: a kill -9 of this supervisor would leave the stack running — stopping the stack.');
      void this.shutdown(1);
    });
  }

  /** Registers a component so a crash anywhere, at any time, brings the stack down, and so does a SIGKILL of the supervisor. */
  watch(component: ManagedProcess): ManagedProcess {
    this.running.push(component);
    this.watchdog.watch(component.child.pid);
    if (this.stopping) void component.stop();
    void component.exited.then((exit) => {
      if (component.stopping || this.stopping) return;
      complain(`${component.name} ${describeExit(exit)} — stopping the stack.`);
      this.showTail(component);
      void this.shutdown(1);
    });
    return component;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  showTail(component: ManagedProcess): void {
    const tail = component.tail(20);
    if (tail.length === 0) return;
    complain(`last ${tail.length} lines of ${component.name}${component.logFile ? ` (${displayPath(component.logFile)})` : ''}:`);
    for (const line of tail) process.stderr.write(`    ${line}\n`);
  }

  /** Stops components in reverse start order (API first, Temporal last), then exits. */
  shutdown(exitCode: number): Promise<void> {
    this.stopping ??= (async () => {
      for (const component of [...this.running].reverse()) {
        await component.stop().catch((err: Error) => complain(`stopping ${component.name}: ${err.message}`));
        this.watchdog.forget(component.child.pid);
      }
      this.watchdog.release();
      process.exit(exitCode);
    })();
    return this.stopping;
  }
}

/** Paths inside the repository are shown relative to it, others in full. */
export function displayPath(file: string): string {
  const relative = path.relative(repoRoot, file);
  return relative.startsWith('..') ? file : relative;
}

export function logFile(settings: StackSettings, name: string): string {
  return path.join(settings.dataDir, 'logs', `${name}.log`);
}
