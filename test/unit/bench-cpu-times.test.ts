import { existsSync } from 'node:fs';
import { cpuPer, cpuPhaseTable, cpuSecondsOf, cpuTable, cpuTicksOf, mainThreadWaitOf, readCpu, waitSecondsOf } from '../../bench/cpu-times';

describe('bench CPU times', () => {
  it('reads utime + stime after the command name, whatever the name holds', () => {
    const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '731', '229', '0', '0', '20', '0', '12'];
    expect(cpuTicksOf(`4242 (node) ${fields.join(' ')}`)).toBe(960);
    expect(cpuTicksOf(`4242 (we ird) (name)) ${fields.join(' ')}`)).toBe(960);
    expect(() => cpuTicksOf('4242 (node) S 1')).toThrow(/not a \/proc/);
  });

  it("reads this process's own CPU time from the kernel, and it grows with work", () => {
    const before = cpuSecondsOf(process.pid);
    // Work until Node's own count says 100 ms of CPU went by, however busy the machine is.
    const start = process.cpuUsage();
    const used = () => {
      const u = process.cpuUsage(start);
      return (u.user + u.system) / 1e6;
    };
    let x = 0;
    while (used() < 0.1) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = cpuSecondsOf(process.pid);
    expect(after - before).toBeGreaterThanOrEqual(0.05);
    expect(cpuSecondsOf(2 ** 30)).toBeNaN();
  });

  it('turns two readings into seconds per 1,000 units and prints a column per pass with a total', () => {
    const per = cpuPer(new Map([['worker', 10], ['api', 2]]), new Map([['worker', 59], ['api', 13.6]]), 1000);
    expect(per.get('worker')).toBeCloseTo(49);
    expect(per.get('api')).toBeCloseTo(11.6);
    expect(cpuPer(new Map([['worker', 1]]), new Map([['worker', 3]]), 500).get('worker')).toBeCloseTo(4);

    const lines = cpuTable([
      { name: 'bare', cpu: new Map([['worker', 27], ['api', NaN]]) },
      { name: 'Optinflow', cpu: per },
    ], 1000);
    expect(lines[1]).toMatch(/bare\s+Optinflow/);
    expect(lines.find((l) => l.startsWith('worker'))).toMatch(/27\.0\s+49\.0$/);
    expect(lines.find((l) => l.startsWith('api'))).toMatch(/-\s+11\.6$/);
    expect(lines.at(-1)).toMatch(/^total\s+27\.0\s+60\.6$/);
  });

  it('reads groups of processes and this process as "bench"', () => {
    const reading = readCpu({ self: [process.pid, process.pid] });
    expect(reading.get('self')).toBeCloseTo(2 * cpuSecondsOf(process.pid), 1);
    expect(reading.get('bench')).toBeGreaterThan(0);
  });

  it("reads a thread's wait for a core from its schedstat line, and this process's own", () => {
    expect(waitSecondsOf('199682010 13689902000 516\n')).toBeCloseTo(13.689902);
    expect(() => waitSecondsOf('199682010')).toThrow(/not a schedstat line/);
    expect(() => waitSecondsOf('a b c')).toThrow(/not a schedstat line/);
    // Kept by kernels built with scheduler statistics, as on Linux by default.
    if (existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`)) expect(mainThreadWaitOf(process.pid)).toBeGreaterThanOrEqual(0);
    expect(mainThreadWaitOf(2 ** 30)).toBeNaN();
  });

  it('prints, under the phases, how long each event loop waited for a core', () => {
    const lines = cpuPhaseTable([
      { name: 'journeys start', cpu: new Map([['worker', 14], ['api', 4]]), waited: new Map([['worker', 5.25], ['api', 1]]), seconds: 20 },
      { name: 'STOPs', cpu: new Map([['worker', 12], ['api', 10]]), waited: new Map([['api', 12.5]]), seconds: 21 },
    ], 2);
    const at = lines.findIndex((l) => l.includes('waited, ready to run, for a core'));
    expect(at).toBeGreaterThan(lines.findIndex((l) => l.startsWith('cores busy')));
    expect(lines[at + 1]).toMatch(/^worker\s+5\.3\s+-$/);
    expect(lines[at + 2]).toMatch(/^api\s+1\.0\s+12\.5$/);
    expect(cpuPhaseTable([{ name: 'a', cpu: new Map([['api', 1]]), seconds: 1 }], 2).some((l) => l.includes('for a core'))).toBe(false);
  });
});
