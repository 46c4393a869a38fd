/**
 * bin/tsops starts the CLI from the start-up snapshot only with the Node
 * binary that built it, passes every argument to tsops (not to Node), and
 * otherwise falls back to the bundle. Which one ran is read from the command
 * line of the process exec-env's child sees as its parent.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sandbox, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
let copy: string;
let envFile: string;
beforeAll(async () => {
  sb = await sandbox();
  envFile = join(sb.dir, 'a.enc.env');
  const r = sb.run(['encrypt', '--age', sb.recipient, '--filename-override', 'a.env'], { input: 'A=1\n' });
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(envFile, r.stdout);
  // A copy of the package whose stamp the tests may spoil.
  copy = mkdtempSync(join(tmpdir(), 'tsops-launcher-'));
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'cli'), join(copy, 'dist', 'cli'), { recursive: true, preserveTimestamps: true });
});
afterAll(() => {
  sb.cleanup();
  rmSync(copy, { recursive: true, force: true });
});

/** The parent's command line as exec-env's child sees it: the process tsops became. */
function parentCommandLine(launcher: string): string {
  const r = spawnSync(launcher, ['exec-env', envFile, '--', 'sh', '-c', 'tr "\\0" " " < /proc/$PPID/cmdline'], { cwd: sb.dir, env: sb.env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe.skipIf(process.platform !== 'linux')('bin/tsops', () => {
  it('was built with a snapshot for this Node', () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'tsops.blob'))).toBe(true);
    expect(readFileSync(join(ROOT, 'dist', 'cli', 'tsops.snapshot-node'), 'utf8').split('\n')[0]).toBe(process.execPath);
  });

  it('starts from the snapshot with the Node that built it: the one holding child_process for exec-env', () => {
    expect(parentCommandLine(join(copy, 'bin', 'tsops'))).toContain('tsops-exec.blob');
    const r = spawnSync(join(copy, 'bin', 'tsops'), ['exec-file', envFile, 'sh -c "tr \'\\\\0\' \' \' < /proc/$PPID/cmdline"'], { cwd: sb.dir, env: sb.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('tsops-exec.blob');
  });

  it('hands every argument to tsops, even ones Node would take for its own', () => {
    const launcher = join(copy, 'bin', 'tsops');
    const version = spawnSync(launcher, ['--version'], { env: sb.env, encoding: 'utf8' });
    expect(version.stdout.split('\n')[0]).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const legacy = spawnSync(launcher, ['-d', envFile], { env: sb.env, encoding: 'utf8' });
    expect([legacy.status, legacy.stdout]).toEqual([0, 'A=1\n']);
    const eval_ = spawnSync(launcher, ['-e', '0'], { env: sb.env, encoding: 'utf8' });
    expect(eval_.status).not.toBe(0);
    expect(eval_.stderr).toMatch(/^tsops: /);
  });

  it('draws fresh randomness in every run started from the snapshot (no state baked into it)', () => {
    const launcher = join(copy, 'bin', 'tsops');
    const run = (args: string[], input = ''): string => {
      const r = spawnSync(launcher, args, { cwd: sb.dir, env: sb.env, input, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const encrypt = (): string => run(['encrypt', '--age', sb.recipient, '--input-type', 'yaml', '--output-type', 'yaml'], 'a: same\n');
    const [one, two] = [encrypt(), encrypt()];
    const values = (text: string): string[] => text.match(/ENC\[[^\]]+\]/g) ?? [];
    expect(values(one).length).toBeGreaterThan(1);
    for (const v of values(one)) expect(values(two)).not.toContain(v);
    expect(run(['keygen', '--output', join(sb.dir, 'k1.txt')])).not.toBe(run(['keygen', '--output', join(sb.dir, 'k2.txt')]));
  });

  it('runs through a symlink, as npm installs it', () => {
    const link = join(copy, 'tsops-link');
    spawnSync('ln', ['-s', join(copy, 'bin', 'tsops'), link]);
    expect(parentCommandLine(link)).toContain('--snapshot-blob');
  });

  it('falls back to the bundle when the snapshot was made by another Node binary', () => {
    const stamp = join(copy, 'dist', 'cli', 'tsops.snapshot-node');
    const nodeTime = join(copy, 'dist', 'cli', 'tsops.node-mtime');
    const original = readFileSync(stamp, 'utf8');
    const { atime, mtime } = statSync(nodeTime);
    try {
      // Same path, other modification time: Node was replaced in place (an upgrade).
      utimesSync(nodeTime, atime, new Date(mtime.getTime() - 86_400_000));
      const line = parentCommandLine(join(copy, 'bin', 'tsops'));
      expect(line).not.toContain('--snapshot-blob');
      expect(line).toContain('tsops.cjs');
      utimesSync(nodeTime, atime, mtime);
      expect(parentCommandLine(join(copy, 'bin', 'tsops'))).toContain('--snapshot-blob');
      writeFileSync(stamp, '/nonexistent/node\n');
      expect(parentCommandLine(join(copy, 'bin', 'tsops'))).toContain('tsops.cjs');
    } finally {
      writeFileSync(stamp, original);
      utimesSync(nodeTime, atime, mtime);
    }
  });

  it('falls back to the bundle when NODE_OPTIONS is set (V8 flags there make Node refuse the snapshot)', () => {
    const r = spawnSync(join(copy, 'bin', 'tsops'), ['exec-env', envFile, '--', 'sh', '-c', 'tr "\\0" " " < /proc/$PPID/cmdline'], {
      cwd: sb.dir,
      env: { ...sb.env, NODE_OPTIONS: '--max-old-space-size=4096' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('tsops.cjs');
  });

  it('a snapshot that cannot be built is one line at install, and the CLI still runs', () => {
    const pkg = mkdtempSync(join(tmpdir(), 'tsops-snapshot-fail-'));
    try {
      for (const f of ['scripts/snapshot.mjs', 'scripts/warm-up.cjs', 'bin/tsops', 'bin/tsops.cjs']) cpSync(join(ROOT, f), join(pkg, f));
      cpSync(join(ROOT, 'dist', 'cli', 'tsops.cjs'), join(pkg, 'dist', 'cli', 'tsops.cjs'));
      // A bundle the builder cannot run: the warm-up throws.
      writeFileSync(join(pkg, 'dist', 'cli', 'tsops.cjs'), `${readFileSync(join(pkg, 'dist', 'cli', 'tsops.cjs'), 'utf8')}\nmodule.exports.main = () => { throw new Error('no warm-up here'); };\n`);
      const r = spawnSync(process.execPath, [join(pkg, 'scripts', 'snapshot.mjs')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^tsops: no start-up snapshot \([^\n]+\); the CLI starts without one\n$/);
      expect(existsSync(join(pkg, 'dist', 'cli', 'tsops.blob'))).toBe(false);
      expect(existsSync(join(pkg, 'dist', 'cli', 'tsops.snapshot-node'))).toBe(false);
      cpSync(join(ROOT, 'dist', 'cli', 'tsops.cjs'), join(pkg, 'dist', 'cli', 'tsops.cjs'));
      const version = spawnSync(join(pkg, 'bin', 'tsops'), ['--version'], { encoding: 'utf8' });
      expect(version.stdout.split('\n')[0]).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });

  it('falls back to the bundle when there is no snapshot', () => {
    const blob = join(copy, 'dist', 'cli', 'tsops-exec.blob');
    const kept = join(copy, 'kept.blob');
    cpSync(blob, kept, { preserveTimestamps: true });
    rmSync(blob);
    try {
      expect(parentCommandLine(join(copy, 'bin', 'tsops'))).toContain('tsops.cjs');
    } finally {
      cpSync(kept, blob, { preserveTimestamps: true });
    }
  });
});
