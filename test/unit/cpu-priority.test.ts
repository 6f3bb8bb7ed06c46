import { WORKER_NICE_DEFAULT, nicedCommand, workerNice } from '../../dev/cpu-priority';

describe('WORKER_NICE', () => {
  it('is 10 when unset or empty', () => {
    expect(WORKER_NICE_DEFAULT).toBe(10);
    expect(workerNice({})).toBe(10);
    expect(workerNice({ WORKER_NICE: '' })).toBe(10);
  });

  it('takes a whole number from 0 to 19', () => {
    expect(workerNice({ WORKER_NICE: '0' })).toBe(0);
    expect(workerNice({ WORKER_NICE: '19' })).toBe(19);
  });

  it.each(['20', '-5', '5.5', 'low', ' 7', '100'])('refuses %p, naming the variable and the rule', (v) => {
    expect(() => workerNice({ WORKER_NICE: v })).toThrow(`WORKER_NICE must be a whole number from 0 to 19 (got "${v}")`);
  });
});

describe('the command line of a process started at a lower priority', () => {
  it('goes through nice, the program and its arguments unchanged', () => {
    expect(nicedCommand('/usr/bin/node', ['--import', 'tsx', 'workers/main.ts'], 10, 'linux')).toEqual({ command: 'nice', args: ['-n', '10', '/usr/bin/node', '--import', 'tsx', 'workers/main.ts'] });
  });

  it('is the program itself at nice 0, and on Windows', () => {
    expect(nicedCommand('/usr/bin/node', ['a.js'], 0, 'linux')).toEqual({ command: '/usr/bin/node', args: ['a.js'] });
    expect(nicedCommand('node.exe', ['a.js'], 10, 'win32')).toEqual({ command: 'node.exe', args: ['a.js'] });
  });
});
