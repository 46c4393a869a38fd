import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import { DEFAULT_JOBS, fleetExitCode, fleetJobs, MAX_JOBS } from '../../src/cli/fleet.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe('progress line', () => {
  it('writes nothing at all when standard error is not a terminal', () => {
    const s = stream(false);
    const p = progressLine(s, 'check', 3);
    p.tick(false);
    p.tick(true);
    p.tick(false);
    p.done();
    expect(s.writes).toEqual([]);
  });

  it('redraws in place at most once per interval, always draws the last file, and clears itself', () => {
    const s = stream(true);
    let t = 0;
    const p = progressLine(s, 'rotate', 4, { intervalMs: 100, now: () => t });
    p.tick(false); // t=0: drawn
    t = 50;
    p.tick(true); // within the interval: not drawn
    t = 150;
    p.tick(false); // drawn
    t = 160;
    p.tick(false); // the last one: drawn however soon
    p.done();
    expect(s.writes).toEqual([
      '\rrotate [######..................] 1/4',
      '\rrotate [##################......] 3/4, 1 failed',
      '\rrotate [########################] 4/4, 1 failed',
      '\r\x1b[K',
    ]);
    expect(s.writes.join('')).not.toContain('\n');
  });

  it('an empty run draws nothing, even on a terminal', () => {
    const s = stream(true);
    const p = progressLine(s, 'check', 0);
    p.done();
    expect(s.writes).toEqual([]);
  });
});

describe('fleet settings', () => {
  it('--jobs wins over TSOPS_JOBS, which wins over the default; bounded above, refused below 1', () => {
    expect(fleetJobs(undefined, {})).toBe(DEFAULT_JOBS);
    expect(fleetJobs(undefined, { TSOPS_JOBS: '3' })).toBe(3);
    expect(fleetJobs('5', { TSOPS_JOBS: '3' })).toBe(5);
    expect(fleetJobs('100000', {})).toBe(MAX_JOBS);
    expect(() => fleetJobs('0', {})).toThrow(/--jobs must be/);
    expect(() => fleetJobs(undefined, { TSOPS_JOBS: 'many' })).toThrow(/TSOPS_JOBS must be/);
  });

  it('the exit code is the failures\' own when they agree, 1 when they differ, 0 without any', () => {
    expect(fleetExitCode({ failures: [] })).toBe(0);
    expect(fleetExitCode({ failures: [{ line: 'a', exitCode: 51 }, { line: 'b', exitCode: 51 }] })).toBe(51);
    expect(fleetExitCode({ failures: [{ line: 'a', exitCode: 51 }, { line: 'b', exitCode: 128 }] })).toBe(1);
  });
});
