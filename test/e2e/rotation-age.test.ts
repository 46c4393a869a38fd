import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../support/cli.js';
import { gitEnv } from '../support/git.js';
import { daysOld, dataKeyDate, olderThan } from '../../src/rekey/key-date.js';
import { parseDays } from '../../src/config/duration.js';
import { parseConfig } from '../../src/config/index.js';
import type { Metadata } from '../../src/sops/metadata.js';

const DAY = 86_400_000;
// Ages far from the 90-day line, so the time the test takes never matters.
const daysAgo = (n: number): string => `@${Math.floor((Date.now() - n * DAY) / 1000)} +0000`;

let sb: Sandbox;
let repo: string;
let env: NodeJS.ProcessEnv;

function git(args: string[], age?: number): void {
  const dated = age === undefined ? {} : { GIT_AUTHOR_DATE: daysAgo(age), GIT_COMMITTER_DATE: daysAgo(age) };
  execFileSync('git', args, { cwd: repo, env: { ...env, ...dated }, stdio: 'ignore' });
}

function tsops(args: string[]) {
  const r = sb.run(args, { cwd: repo, env });
  if (r.status !== 0) throw new Error(`tsops ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function encryptNew(name: string, commitAge: number): void {
  writeFileSync(join(repo, name), `token: ${name}-value\nother: plain\n`);
  tsops(['encrypt', '-i', '--age', sb.recipient, name]);
  git(['add', name]);
  git(['commit', '-qm', `add ${name}`], commitAge);
}

/**
 * A generated repository whose files have known data-key ages (age keys only,
 * so git's history is the source):
 *   old       encrypted 200 days ago                          -> due
 *   edited    encrypted 200 days ago, a value set 5 days ago  -> due (same data key)
 *   rewrapped encrypted 200 days ago, a key added 5 days ago  -> due (same data key)
 *   rotated   encrypted 200 days ago, rotated 10 days ago     -> not due
 *   fresh     encrypted 10 days ago                           -> not due
 *   merged    rotated on a branch, merged 20 days ago         -> not due
 *   loose     never committed                                 -> age unknown
 */
beforeAll(async () => {
  sb = await sandbox();
  env = gitEnv(sb);
  repo = join(sb.dir, 'repo');
  mkdirSync(repo);
  git(['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, '.sops.yaml'), `creation_rules:\n  - age: ${sb.recipient}\ntsops:\n  rotate_after: 90d\n`);
  git(['add', '.sops.yaml']);
  git(['commit', '-qm', 'config'], 300);
  for (const name of ['old', 'edited', 'rewrapped', 'rotated']) encryptNew(`${name}.enc.yaml`, 200);
  tsops(['set', 'edited.enc.yaml', '["token"]', '"changed"']);
  git(['commit', '-qam', 'edit'], 5);
  const other = (await import('../support/pipeline.js')).throwawayAgeKey;
  const second = await other();
  // updatekeys: the same data key wrapped again, for one more recipient too.
  writeFileSync(join(repo, '.sops.yaml'), `creation_rules:\n  - path_regex: rewrapped\n    age: ${sb.recipient},${second.recipient}\n  - age: ${sb.recipient}\ntsops:\n  rotate_after: 90d\n`);
  tsops(['updatekeys', '--yes', 'rewrapped.enc.yaml']);
  git(['commit', '-qam', 'add a key'], 5);
  tsops(['rotate', '-i', 'rotated.enc.yaml']);
  git(['commit', '-qam', 'rotate'], 10);
  encryptNew('fresh.enc.yaml', 10);
  // Rotated on a side branch 30 days ago, merged 20 days ago: counted from the merge.
  encryptNew('merged.enc.yaml', 200);
  git(['checkout', '-q', '-b', 'side']);
  tsops(['rotate', '-i', 'merged.enc.yaml']);
  git(['commit', '-qam', 'rotate on a branch'], 30);
  git(['checkout', '-q', 'main']);
  writeFileSync(join(repo, 'unrelated.txt'), 'x\n');
  git(['add', 'unrelated.txt']);
  git(['commit', '-qm', 'meanwhile'], 25);
  git(['merge', '-q', '--no-ff', '-m', 'merge', 'side'], 20);
  writeFileSync(join(repo, 'loose.enc.yaml'), 'token: loose\n');
  tsops(['encrypt', '-i', '--age', sb.recipient, 'loose.enc.yaml']);
}, 120_000);
afterAll(() => sb.cleanup());

describe('data key age', () => {
  it('status shows each file\'s age from git history and marks those past tsops.rotate_after', () => {
    const r = tsops(['status', '--json']);
    const files = Object.fromEntries((JSON.parse(r.stdout) as { files: { file: string; dataKey: { daysOld: number | null; source: string; overdue?: boolean } }[] }).files.map((f) => [f.file, f.dataKey]));
    expect(files['old.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git', overdue: true });
    expect(files['edited.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git', overdue: true });
    expect(files['rewrapped.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git', overdue: true });
    expect(files['rotated.enc.yaml']).toMatchObject({ daysOld: 10, source: 'git', overdue: false });
    expect(files['fresh.enc.yaml']).toMatchObject({ daysOld: 10, source: 'git', overdue: false });
    expect(files['merged.enc.yaml']).toMatchObject({ daysOld: 20, source: 'git', overdue: false });
    expect(files['loose.enc.yaml']).toEqual({ created: null, daysOld: null, source: 'unknown' });
    const text = tsops(['status']).stdout;
    expect(text).toContain('data key: 200 days old (from git history)   ROTATE: older than 90d');
    expect(text).toContain('data key: 10 days old (from git history)   rotation due at 90d');
  });

  it('rotate -r --older-than 90d rotates exactly the files past that age, with a summary', () => {
    const before = (n: string): string => readFileSync(join(repo, n), 'utf8');
    const snapshot = Object.fromEntries(['old', 'edited', 'rewrapped', 'rotated', 'fresh', 'merged', 'loose'].map((n) => [n, before(`${n}.enc.yaml`)]));
    const r = sb.run(['rotate', '-r', '.', '--older-than', '90d'], { cwd: repo, env });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('rotate: 3 rotated, 3 not due, 1 age unknown, 0 failed\n');
    expect(r.stderr).toContain('loose.enc.yaml: no created_at in the metadata and no git history (or a date in the future): not rotated');
    // Progress, as updatekeys -r shows it without a terminal: one line per file acted on.
    for (const n of ['old', 'edited', 'rewrapped']) expect(r.stderr).toContain(`tsops: ${n}.enc.yaml: rotated\n`);
    expect(r.stderr).not.toMatch(/(fresh|rotated|merged)\.enc\.yaml: rotated/);
    const changed = Object.keys(snapshot).filter((n) => before(`${n}.enc.yaml`) !== snapshot[n]).sort();
    expect(changed).toEqual(['edited', 'old', 'rewrapped']);
    // Rotated, not committed: now counted from the file's own lastmodified.
    const after = JSON.parse(tsops(['status', '--json']).stdout) as { files: { file: string; dataKey: { daysOld: number; source: string } }[] };
    expect(after.files.find((f) => f.file === 'old.enc.yaml')!.dataKey).toMatchObject({ daysOld: 0, source: 'lastmodified' });
  });

  it('refuses a malformed age, and --older-than without -r', () => {
    const bad = sb.run(['rotate', '-r', '.', '--older-than', 'soon'], { cwd: repo, env });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toBe("tsops: --older-than: 'soon' is not an age like 90d, 12w or 36h\n");
    expect(sb.run(['rotate', '-i', 'fresh.enc.yaml', '--older-than', '90d'], { cwd: repo, env }).stderr).toMatch(/use it with -r/);
  });
});

describe('data key age: created_at and the config field', () => {
  const metadata = (records: Record<string, string>[]): Metadata => ({
    keyGroups: [records.map((fields) => ({ type: 'pgp' as const, fields }))],
    lastModified: '2026-01-01T00:00:00Z',
    mac: '',
    macOnlyEncrypted: false,
    version: '3.9.0',
  });

  it('takes the oldest created_at of the wrapped keys, before any git history', async () => {
    const age = await dataKeyDate('/nonexistent/x.enc.yaml', metadata([{ fp: 'A', enc: 'x', created_at: '2025-06-01T00:00:00Z' }, { fp: 'B', enc: 'y', created_at: '2025-03-01T00:00:00Z' }]));
    expect(age).toEqual({ since: new Date('2025-03-01T00:00:00Z'), source: 'created_at' });
    expect(olderThan(age, 90, new Date('2025-06-01T00:00:00Z'))).toBe(true);
    expect(olderThan(age, 90, new Date('2025-05-01T00:00:00Z'))).toBe(false);
  });

  it('a created_at in the future (not covered by the MAC) makes the age unknown, not young', async () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const age = await dataKeyDate('/nonexistent/x.enc.yaml', metadata([{ fp: 'A', enc: 'x', created_at: '2099-01-01T00:00:00Z' }]));
    expect(olderThan(age, 90, now)).toBeUndefined();
    expect(daysOld(age, now)).toBeUndefined();
  });

  it('parses ages and the tsops.rotate_after field, which sops ignores', () => {
    expect([parseDays('90d'), parseDays('12w'), parseDays('36h')]).toEqual([90, 84, 1.5]);
    expect(() => parseDays('90')).toThrow(/not an age/);
    expect(parseConfig('creation_rules: []\ntsops:\n  rotate_after: 12w\n', '.sops.yaml').rotateAfterDays).toBe(84);
    // A mistake in the section sops never reads warns, and stops nothing sops would do.
    const bad = parseConfig('creation_rules:\n  - age: age1x\ntsops:\n  rotate_after: soon\n', '.sops.yaml');
    expect(bad.rotateAfterDays).toBeUndefined();
    expect(bad.creationRules).toHaveLength(1);
    expect(bad.warnings).toEqual([expect.stringMatching(/^\.sops\.yaml:4: .*tsops\.rotate_after: 'soon' is not an age like 90d, 12w or 36h; the tsops section is ignored$/)]);
    expect(parseConfig('tsops: [1]\n', '.sops.yaml').warnings).toEqual([expect.stringMatching(/tsops must be a mapping; the tsops section is ignored/)]);
  });
});

/**
 * A contributor who cannot decrypt wants a stale data key to look fresh, so
 * `rotate --older-than` passes over it: by deleting or swapping the file for
 * a commit and restoring it, or by writing today into created_at (outside the
 * MAC). Each file here has had the same data key for 200 days.
 */
describe('data key age: history and metadata a contributor forged', () => {
  let forged: string;
  const run = (args: string[], age?: number): void => {
    const dated = age === undefined ? {} : { GIT_AUTHOR_DATE: daysAgo(age), GIT_COMMITTER_DATE: daysAgo(age) };
    execFileSync('git', args, { cwd: forged, env: { ...env, ...dated }, stdio: 'ignore' });
  };
  const encrypt = (name: string, text: string): void => {
    writeFileSync(join(forged, name), text);
    const r = sb.run(['encrypt', '-i', '--age', sb.recipient, name], { cwd: forged, env });
    if (r.status !== 0) throw new Error(r.stderr);
  };

  beforeAll(() => {
    forged = join(sb.dir, 'forged');
    mkdirSync(forged);
    run(['init', '-q', '-b', 'main']);
    for (const name of ['swapped', 'deleted', 'dated', 'recreated']) encrypt(`${name}.enc.yaml`, `token: ${name}-value\n`);
    run(['add', '.']);
    run(['commit', '-qm', 'secrets'], 200);
    const original = (name: string): string => readFileSync(join(forged, `${name}.enc.yaml`), 'utf8');
    const kept = { swapped: original('swapped'), deleted: original('deleted') };
    // Swapped for a file anyone can encrypt to the public recipient, then put back.
    encrypt('swapped.enc.yaml', 'token: decoy\n');
    run(['rm', '-q', 'deleted.enc.yaml']);
    // Deleted and encrypted anew: this one really has a new data key.
    run(['rm', '-q', 'recreated.enc.yaml']);
    run(['commit', '-qam', 'decoys'], 3);
    writeFileSync(join(forged, 'swapped.enc.yaml'), kept.swapped);
    writeFileSync(join(forged, 'deleted.enc.yaml'), kept.deleted);
    encrypt('recreated.enc.yaml', 'token: new\n');
    // created_at on the age entry says today.
    const dated = original('dated').replace('\n        - enc: |', `\n        - created_at: "${new Date().toISOString()}"\n          enc: |`);
    expect(dated).toContain('created_at');
    writeFileSync(join(forged, 'dated.enc.yaml'), dated);
    run(['add', '.']);
    run(['commit', '-qm', 'restore'], 2);
  }, 60_000);

  it('a key restored after a decoy version, or dated today in created_at, still counts from when it was made', () => {
    const r = sb.run(['status', '--json'], { cwd: forged, env });
    expect(r.status).toBe(0);
    const files = Object.fromEntries((JSON.parse(r.stdout) as { files: { file: string; dataKey: { daysOld: number | null; source: string } }[] }).files.map((f) => [f.file, f.dataKey]));
    expect(files['swapped.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git' });
    expect(files['deleted.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git' });
    expect(files['dated.enc.yaml']).toMatchObject({ daysOld: 200, source: 'git' });
    expect(files['recreated.enc.yaml']).toMatchObject({ daysOld: 2, source: 'git' });
  });
});
