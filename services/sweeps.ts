import { startStuckCampaigns } from './campaigns';
import type { ServiceDeps, ServiceLog } from './deps';
import { handOverPendingEvents } from './journey-events';
import { PENDING_OPTOUT_MIN_AGE_MS, startPendingOptOuts } from './optouts';
import { refreshAllReportDays } from './report-days';

/**
 * The background work that finishes what a request accepted while Temporal could not take it: opt-outs
 * and contact events kept in the store, campaigns left `starting`. One place, one schedule; /healthz shows each sweep's
 * last run, so ops see a sweep that fails or stopped.
 */
interface SweepDef {
  name: string;
  everyMs: number;
  /** Wait this long after start before the first run (default: run at once). */
  firstAfterMs?: number;
  run: (deps: ServiceDeps, log: ServiceLog) => Promise<Record<string, number>>;
}

const SWEEPS: SweepDef[] = [
  { name: 'pending_optouts', everyMs: 10_000, run: (deps, log) => startPendingOptOuts(deps, log, { minAgeMs: PENDING_OPTOUT_MIN_AGE_MS }) },
  { name: 'pending_events', everyMs: 10_000, run: (deps, log) => handOverPendingEvents(deps, log) },
  { name: 'starting_campaigns', everyMs: 60_000, run: async (deps, log) => ({ started: await startStuckCampaigns(deps, log) }) },
  // Reads the open days' documents once a run (a full scan on FerretDB): minutes of lag buy a report in milliseconds.
  // Not at start-up, where the other sweeps and the first requests compete for the store.
  { name: 'report_days', everyMs: 5 * 60_000, firstAfterMs: 60_000, run: (deps, log) => refreshAllReportDays(deps, log) },
];

export interface SweepStatus {
  name: string;
  everyMs: number;
  runs: number;
  failures: number;
  lastRunAt?: string;
  lastOkAt?: string;
  lastError?: string;
  last?: Record<string, number>;
}

export interface Sweeps {
  start(): void;
  stop(): Promise<void>;
  /** Runs every sweep once now (tests, and a caller that knows Temporal is back). */
  runAll(): Promise<void>;
  status(): SweepStatus[];
}

export function createSweeps(deps: ServiceDeps, log: ServiceLog): Sweeps {
  const state = new Map<string, SweepStatus>(SWEEPS.map((s) => [s.name, { name: s.name, everyMs: s.everyMs, runs: 0, failures: 0 }]));
  const running = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];

  // A sweep never overlaps itself: a slow run (Temporal down, each start timing out) is not started twice.
  const runOne = (def: SweepDef): Promise<void> => {
    const inFlight = running.get(def.name);
    if (inFlight) return inFlight;
    const s = state.get(def.name)!;
    const p = (async () => {
      s.lastRunAt = new Date().toISOString();
      s.runs++;
      try {
        s.last = await def.run(deps, log);
        s.lastOkAt = new Date().toISOString();
        s.lastError = undefined;
      } catch (err) {
        s.failures++;
        s.lastError = (err as Error).message;
        log.warn({ err, sweep: def.name }, 'sweep failed; the next run tries again');
      } finally {
        running.delete(def.name);
      }
    })();
    running.set(def.name, p);
    return p;
  };

  return {
    start() {
      for (const def of SWEEPS) {
        if (def.firstAfterMs) timers.push(setTimeout(() => void runOne(def), def.firstAfterMs).unref());
        else void runOne(def);
        timers.push(setInterval(() => void runOne(def), def.everyMs).unref());
      }
    },
    async stop() {
      for (const t of timers.splice(0)) clearTimeout(t);
      await Promise.allSettled([...running.values()]);
    },
    async runAll() {
      await Promise.all(SWEEPS.map(runOne));
    },
    status: () => [...state.values()].map((s) => ({ ...s })),
  };
}
