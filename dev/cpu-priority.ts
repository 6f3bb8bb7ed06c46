import { writeFileSync } from 'node:fs';

/**
 * The worker's CPU priority where it shares the machine with the API (the embedded stack, the
 * benchmarks). A webhook's answer waits on the API and the store alone, and Twilio gives up on it
 * after 15 s; the worker's work waits in Temporal's task queue, durable, and only its confirmations
 * have a deadline (seconds). Under a burst of STOPs the worker is the largest consumer of CPU, and on
 * two cores at equal priority the API's event loop spent more time waiting for a core than running
 * (its main thread ran 0.4 s and waited 0.55–0.7 s in every second of the burst): a STOP's answer
 * waited in that queue. With the worker at nice 10 the answers' p99 fell from seconds to 95–257 ms,
 * the confirmations still out within their 10 s (docs/performance.md, docs/benchmarks.md).
 */
export const WORKER_NICE_DEFAULT = 10;

/** WORKER_NICE: 0 (the same priority as the rest) to 19 (the lowest); 10 when unset. */
export function workerNice(env: NodeJS.ProcessEnv): number {
  const v = env.WORKER_NICE;
  if (v === undefined || v === '') return WORKER_NICE_DEFAULT;
  if (!/^\d{1,2}$/.test(v) || Number(v) > 19) throw new Error(`WORKER_NICE must be a whole number from 0 to 19 (got "${v}")`);
  return Number(v);
}

/**
 * The command line that runs `command` at a lower priority: through `nice`, so every thread the
 * program starts inherits it (on Linux a priority set on a running process reaches only its first
 * thread). Unchanged for nice 0, and on Windows, which has no `nice`.
 */
export function nicedCommand(command: string, args: string[], nice: number, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (nice <= 0 || platform === 'win32') return { command, args };
  return { command: 'nice', args: ['-n', String(nice), command, ...args] };
}

/**
 * Linux with autogroups (most distributions' default) shares the CPU between sessions first and
 * weighs a thread's nice only against threads of its own session. Every component is spawned as
 * the leader of a session of its own, so its nice alone changes nothing against the others: its
 * session's group gets the same value (`/proc/<pid>/autogroup`). Where there is no such file
 * (another system, a kernel without autogroups) or it refuses the write, the threads' nice is all there is.
 */
export function setSessionNice(pid: number, nice: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // Nothing to set: see above.
  }
}
