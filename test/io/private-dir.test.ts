/**
 * A private dir is named for its owner's pid and holds an owner record, so the
 * next run can remove what a killed run (SIGKILL cannot be caught) left: only
 * dirs of this prefix and this user whose process is certainly gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { OutputError } from '../../src/errors.js';
import { createPrivateDir, makeOwnedDir, OWNER_RECORD, sweepStaleDirs } from '../../src/io/private-dir.js';

const bases: string[] = [];
afterEach(() => {
  for (const b of bases.splice(0)) rmSync(b, { recursive: true, force: true });
});

function base(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-private-dir-test-'));
  bases.push(dir);
  return dir;
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** The record a dir made by `pid` in this pid namespace would hold (copied from one made here). */
function ownedBy(dir: string, pid: number): void {
  const probe = makeOwnedDir(base(), 'tsops-probe-');
  const record = { ...(JSON.parse(readFileSync(join(probe, OWNER_RECORD), 'utf8')) as object), pid };
  writeFileSync(join(dir, OWNER_RECORD), JSON.stringify(record));
}

it('names the dir <prefix><pid>-<random>, 0700', () => {
  const b = base();
  const dir = makeOwnedDir(b, 'tsops-edit-');
  expect(basename(dir)).toMatch(new RegExp(`^tsops-edit-${process.pid}-[^-]{6}$`));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
});

it('removes the dirs of a process that is gone, and nothing else', () => {
  const b = base();
  const dead = deadPid();
  const stale = join(b, `tsops-edit-${dead}-abcdef`);
  mkdirSync(stale);
  ownedBy(stale, dead);
  writeFileSync(join(stale, 'secrets.yaml'), 'password: hunter2\n');
  const live = join(b, `tsops-edit-${process.pid}-abcdef`);
  const otherPrefix = join(b, `tsops-exec-${dead}-abcdef`);
  const notOurs = join(b, `tsops-edit-${dead}-not-ours`);
  const file = join(b, `tsops-edit-${dead}-ghijkl`);
  for (const d of [live, otherPrefix, notOurs]) {
    mkdirSync(d);
    ownedBy(d, dead);
  }
  ownedBy(live, process.pid);
  writeFileSync(file, 'x');
  sweepStaleDirs(b, 'tsops-edit-');
  expect(existsSync(stale)).toBe(false);
  for (const kept of [live, otherPrefix, notOurs, file]) expect(existsSync(kept), kept).toBe(true);
});

it('a new private dir sweeps first', () => {
  const dead = deadPid();
  const probe = createPrivateDir('tsops-sweep-test-');
  const stale = join(dirname(probe.path), `tsops-sweep-test-${dead}-zzzzzz`);
  mkdirSync(stale);
  ownedBy(stale, dead);
  probe.remove();
  const dir = createPrivateDir('tsops-sweep-test-');
  try {
    expect(existsSync(stale)).toBe(false);
  } finally {
    dir.remove();
  }
});

it('a directory no base will take is a one-line OutputError', () => {
  expect(() => createPrivateDir('no-such-subdir/tsops-test-')).toThrow(OutputError);
  expect(() => createPrivateDir('no-such-subdir/tsops-test-')).toThrow(/^cannot create a private directory: ENOENT$/);
});
