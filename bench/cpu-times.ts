import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time per process, from the kernel's accounting, read around each pass of a benchmark. On a
 * machine whose cores are busy for the whole pass, end-to-end time follows the total, so this says
 * which process a design's extra time goes to.
 */

/** user + system clock ticks of a process, from the text of /proc/<pid>/stat. */
export function cpuTicksOf(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12th and 13th after the name.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds a process has used so far; NaN when it is gone or not readable. */
export function cpuSecondsOf(pid: number): number {
  try {
    return cpuTicksOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicks();
  } catch {
    return NaN;
  }
}

/** The processes to read, by name; a name may stand for several (the cluster's five servers). */
export type ProcessGroups = Record<string, number[]>;
export type CpuReading = Map<string, number>;

/** Each group's CPU seconds now; this process's own (the bench and the carrier in it) as "bench". */
export function readCpu(groups: ProcessGroups): CpuReading {
  const reading: CpuReading = new Map();
  for (const [name, pids] of Object.entries(groups)) reading.set(name, pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0));
  const own = process.cpuUsage();
  reading.set('bench', (own.user + own.system) / 1e6);
  return reading;
}

/** CPU seconds per `per` units of work between two readings, by group. */
export function cpuPer(before: CpuReading, after: CpuReading, units: number, per = 1000): CpuReading {
  const out: CpuReading = new Map();
  for (const [name, end] of after) out.set(name, ((end - (before.get(name) ?? NaN)) * per) / units);
  return out;
}

/** One column per pass, one row per process and a total; a process a pass did not use shows "-". */
export function cpuTable(passes: Array<{ name: string; cpu: CpuReading }>, units: number): string[] {
  const names = [...new Set(passes.flatMap((p) => [...p.cpu.keys()]))];
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1)).padStart(14);
  const lines = [`CPU seconds per 1,000 journeys, by process (the kernel's accounting over each pass; ${units} journeys per pass)`];
  lines.push(`${''.padEnd(24)}${passes.map((p) => p.name.padStart(14)).join('')}`);
  for (const name of names) lines.push(`${name.padEnd(24)}${passes.map((p) => cell(p.cpu.get(name))).join('')}`);
  const total = (cpu: CpuReading) => [...cpu.values()].filter((v) => !Number.isNaN(v)).reduce((s, v) => s + v, 0);
  lines.push(`${'total'.padEnd(24)}${passes.map((p) => cell(total(p.cpu))).join('')}`);
  return lines;
}

/** The seconds a thread has waited ready to run for a core, from the text of /proc/<pid>/task/<tid>/schedstat (on a core, waiting, timeslices; in ns). */
export function waitSecondsOf(schedstat: string): number {
  const fields = schedstat.trim().split(/\s+/).map(Number);
  if (fields.length < 3 || fields.some((f) => !Number.isFinite(f))) throw new Error(`not a schedstat line: ${schedstat.slice(0, 80)}`);
  return fields[1] / 1e9;
}

/** How long a process's main thread has waited for a core so far; NaN when it is gone or the kernel keeps no such statistics. */
export function mainThreadWaitOf(pid: number): number {
  try {
    return waitSecondsOf(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** The Node processes, whose main thread is their event loop: a request waits while that thread waits. */
const EVENT_LOOPS = ['worker', 'api'];

/** The main thread's wait so far of each Node process among the groups, and this process's as "bench". */
function readWaits(groups: ProcessGroups): CpuReading {
  const reading: CpuReading = new Map();
  for (const name of EVENT_LOOPS) if (groups[name]?.length) reading.set(name, mainThreadWaitOf(groups[name][0]));
  reading.set('bench', mainThreadWaitOf(process.pid));
  return reading;
}

export interface CpuPhase {
  name: string;
  /** CPU seconds each group used in the phase. */
  cpu: CpuReading;
  /** Seconds the Node processes' main threads waited, ready to run, for a core in the phase. */
  waited?: CpuReading;
  seconds: number;
}

/** Starts a phase: reads each group's CPU, its event loop's wait and the clock now; `end` gives the phase up to then. */
export function startPhase(groups: ProcessGroups): { end: (name: string) => CpuPhase } {
  const cpu = readCpu(groups);
  const waits = readWaits(groups);
  const at = Date.now();
  return { end: (name) => ({ name, cpu: cpuPer(cpu, readCpu(groups), 1, 1), waited: cpuPer(waits, readWaits(groups), 1, 1), seconds: (Date.now() - at) / 1000 }) };
}

/**
 * CPU seconds by process in each phase of a run, and how many cores the phase kept busy (all CPU
 * seconds over its wall seconds): near the machine's core count, the phase waited for CPU.
 */
export function cpuPhaseTable(phases: CpuPhase[], cores: number): string[] {
  const names = [...new Set(phases.flatMap((p) => [...p.cpu.keys()]))];
  const cell = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits)).padStart(16);
  const total = (cpu: CpuReading) => [...cpu.values()].filter((v) => !Number.isNaN(v)).reduce((s, v) => s + v, 0);
  const lines = [`CPU seconds by process in each phase (the kernel's accounting), and the cores each phase kept busy (this machine has ${cores})`];
  lines.push(`${''.padEnd(24)}${phases.map((p) => p.name.padStart(16)).join('')}`);
  for (const name of names) lines.push(`${name.padEnd(24)}${phases.map((p) => cell(p.cpu.get(name))).join('')}`);
  lines.push(`${'total'.padEnd(24)}${phases.map((p) => cell(total(p.cpu))).join('')}`);
  lines.push(`${'wall seconds'.padEnd(24)}${phases.map((p) => cell(p.seconds)).join('')}`);
  lines.push(`${'cores busy'.padEnd(24)}${phases.map((p) => cell(total(p.cpu) / p.seconds, 2)).join('')}`);
  const waited = [...new Set(phases.flatMap((p) => [...(p.waited?.keys() ?? [])]))];
  if (waited.length > 0) {
    lines.push(`seconds each Node process's main thread (its event loop) waited, ready to run, for a core (the scheduler's statistics)`);
    for (const name of waited) lines.push(`${name.padEnd(24)}${phases.map((p) => cell(p.waited?.get(name))).join('')}`);
  }
  return lines;
}
