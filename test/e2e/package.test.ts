/**
 * The package as users get it: one JavaScript bin that npm's shims can run on
 * every platform, no install script, nothing built on the publisher's machine
 * that another Node would reject, and a code cache that tsops writes itself
 * into the user's cache directory and that only ever costs speed when it
 * cannot be written.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cmdShim from 'cmd-shim';
import { ROOT, sandbox, TSOPS, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
let encrypted: string;
beforeAll(async () => {
  sb = await sandbox();
  encrypted = join(sb.dir, 'a.enc.yaml');
  const r = sb.run(['encrypt', '--age', sb.recipient, '--filename-override', 'a.yaml'], { input: 'password: hunter2\n' });
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(encrypted, r.stdout);
});
afterAll(() => sb.cleanup());

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string>; files: string[] };

function decryptWithCache(cacheHome: string, extraEnv: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [TSOPS, 'decrypt', encrypted], { cwd: sb.dir, env: { ...sb.env, XDG_CACHE_HOME: cacheHome, ...extraEnv }, encoding: 'utf8' });
}

function cacheFiles(cacheHome: string): string[] {
  const dir = join(cacheHome, 'tsops');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('package.json', () => {
  it('names JavaScript bins with a node shebang and runs no install script', () => {
    expect(pkg.bin).toEqual({ tsops: 'bin/tsops.cjs', 'tsops-krm': 'bin/tsops-krm.cjs' });
    for (const bin of Object.values(pkg.bin)) expect(readFileSync(join(ROOT, bin), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[hook]).toBeUndefined();
  });

  it('ships the bundle and nothing a Node build would reject', () => {
    expect(pkg.files).toEqual(['bin/tsops.cjs', 'bin/tsops-krm.cjs', 'dist', 'docs', 'LICENSE']);
    // The licence package.json names, as published by SPDX.
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^Mozilla Public License Version 2\.0\n/);
    const shipped = readdirSync(join(ROOT, 'dist', 'cli'));
    expect(shipped.sort()).toEqual(['chunks', 'tsops.cjs', 'tsops.hash']);
    // The libraries the commonest commands do not need, each loaded (and cached) on its own.
    expect(readdirSync(join(ROOT, 'dist', 'cli', 'chunks')).sort()).toEqual(['commander.cjs', 're2js.cjs', 'yaml-light.cjs', 'yaml.cjs']);
  });
});

describe('the code cache', () => {
  it('is written on the first run, named after the Node version and the bundle, and reused', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    const first = decryptWithCache(cacheHome);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe('password: hunter2\n');
    const files = cacheFiles(cacheHome);
    const hash = readFileSync(join(ROOT, 'dist', 'cli', 'tsops.hash'), 'utf8').trim();
    if (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
      // Node's own compile cache keeps its own layout.
      expect(files.length).toBeGreaterThan(0);
      return;
    }
    // One per file the command loaded (the core and the part of the YAML library it uses), made by and for `decrypt`.
    expect(files.sort()).toEqual([expect.stringMatching(/-decrypt-tsops-/), expect.stringMatching(/-decrypt-yaml-light-/)]);
    for (const file of files) {
      expect(file).toMatch(new RegExp(`^tsops-${process.version.replace(/\./g, '\\.')}-${process.arch}-decrypt-(tsops|yaml-light)-${hash}-\\d+-\\d+\\.cache$`));
      expect(statSync(join(cacheHome, 'tsops', file)).mode & 0o777).toBe(0o600);
    }
    const written = files.map((f) => statSync(join(cacheHome, 'tsops', f)).mtimeMs);
    const again = decryptWithCache(cacheHome);
    expect(again.stdout).toBe('password: hunter2\n');
    // Accepted by V8, so not written again.
    expect(files.map((f) => statSync(join(cacheHome, 'tsops', f)).mtimeMs)).toEqual(written);
    expect(cacheFiles(cacheHome).sort()).toEqual(files);
  });

  it('another command keeps caches of its own', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    expect(decryptWithCache(cacheHome).status).toBe(0);
    const version = spawnSync(process.execPath, [TSOPS, '--version'], { env: { ...sb.env, XDG_CACHE_HOME: cacheHome }, encoding: 'utf8' });
    expect(version.stdout).toContain('sops format');
    if (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function') return;
    const files = cacheFiles(cacheHome);
    expect(files.filter((f) => f.includes('-decrypt-'))).toHaveLength(2);
    expect(files.filter((f) => f.includes('-cli-commander-'))).toHaveLength(1);
  });

  it('a damaged cache is replaced, and the run is unaffected', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    expect(decryptWithCache(cacheHome).status).toBe(0);
    const name = cacheFiles(cacheHome).find((f) => f.includes('-tsops-'));
    if (!name?.endsWith('.cache')) return;
    const cache = join(cacheHome, 'tsops', name);
    writeFileSync(cache, Buffer.alloc(4096, 0xaa), { mode: 0o600 });
    const r = decryptWithCache(cacheHome);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('password: hunter2\n');
    expect(readFileSync(cache).equals(Buffer.alloc(4096, 0xaa))).toBe(false);
  });

  it.skipIf(process.platform === 'win32')('a cache directory others can write is not used', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    mkdirSync(join(cacheHome, 'tsops'), { mode: 0o777 });
    chmodSync(join(cacheHome, 'tsops'), 0o777);
    const r = decryptWithCache(cacheHome);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('password: hunter2\n');
    expect(cacheFiles(cacheHome)).toEqual([]);
  });

  it('a cache location that cannot be written (a file, a read-only directory) costs nothing but speed', () => {
    const blocked = join(sb.dir, 'not-a-dir');
    writeFileSync(blocked, '');
    const r = decryptWithCache(blocked);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'password: hunter2\n', stderr: '' });
    const readOnly = mkdtempSync(join(sb.dir, 'cache-'));
    mkdirSync(join(readOnly, 'tsops'), { mode: 0o500 });
    chmodSync(join(readOnly, 'tsops'), 0o500);
    const s = decryptWithCache(readOnly);
    expect({ status: s.status, stdout: s.stdout, stderr: s.stderr }).toEqual({ status: 0, stdout: 'password: hunter2\n', stderr: '' });
    chmodSync(join(readOnly, 'tsops'), 0o700);
  });

  it.skipIf(process.platform === 'win32')('a cache directory that is a link is not written through', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    const elsewhere = mkdtempSync(join(sb.dir, 'elsewhere-'));
    symlinkSync(elsewhere, join(cacheHome, 'tsops'));
    const r = decryptWithCache(cacheHome);
    expect(r.stdout).toBe('password: hunter2\n');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a bundle patched after the build never meets the cache of the old one', () => {
    const pkgCopy = mkdtempSync(join(sb.dir, 'pkg-'));
    mkdirSync(join(pkgCopy, 'bin'));
    mkdirSync(join(pkgCopy, 'dist', 'cli', 'chunks'), { recursive: true });
    const shipped = ['bin/tsops.cjs', 'dist/cli/tsops.cjs', 'dist/cli/tsops.hash', ...readdirSync(join(ROOT, 'dist', 'cli', 'chunks')).map((f) => `dist/cli/chunks/${f}`)];
    for (const f of shipped) writeFileSync(join(pkgCopy, f), readFileSync(join(ROOT, f)));
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    const version = () => spawnSync(process.execPath, [join(pkgCopy, 'bin', 'tsops.cjs'), '--version'], { env: { ...sb.env, XDG_CACHE_HOME: cacheHome }, encoding: 'utf8' }).stdout;
    expect(version()).toContain('sops format');
    expect(cacheFiles(cacheHome).length).toBeGreaterThan(0);
    // The same length, so V8's own check on the source would not notice.
    const bundle = join(pkgCopy, 'dist', 'cli', 'tsops.cjs');
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('sops format', 'SOPS FORMAT'));
    expect(version()).toContain('SOPS FORMAT');
  });

  it('TSOPS_NO_CODE_CACHE writes nothing', () => {
    const cacheHome = mkdtempSync(join(sb.dir, 'cache-'));
    expect(decryptWithCache(cacheHome, { TSOPS_NO_CODE_CACHE: '1' }).status).toBe(0);
    expect(cacheFiles(cacheHome)).toEqual([]);
  });
});

describe('the bin', () => {
  it('passes every argument to tsops, not to Node', () => {
    const version = spawnSync(process.execPath, [TSOPS, '--version'], { env: sb.env, encoding: 'utf8' });
    expect(version.stdout.split('\n')[0]).toContain(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const d = spawnSync(process.execPath, [TSOPS, '-d', encrypted], { env: sb.env, encoding: 'utf8' });
    expect(d.stdout).toBe('password: hunter2\n');
  });

  it.skipIf(process.platform === 'win32')('runs through a symlink, as npm links bins', () => {
    const link = join(sb.dir, 'tsops-link');
    symlinkSync(TSOPS, link);
    const r = spawnSync(link, ['decrypt', encrypted], { env: sb.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('password: hunter2\n');
  });

  it("npm's Windows shim runs node on the JavaScript bin", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsops-shim-'));
    try {
      await cmdShim(TSOPS, join(dir, 'tsops'));
      const cmd = readFileSync(join(dir, 'tsops.cmd'), 'utf8');
      // The shebang picks the program: node, with the bin as its first argument.
      expect(cmd).toMatch(/SET "_prog=node"/);
      expect(cmd).toMatch(/"%_prog%" +"[^"\r\n]*tsops\.cjs" %\*/);
      const ps1 = readFileSync(join(dir, 'tsops.ps1'), 'utf8');
      expect(ps1).toMatch(/& "node\$exe" +"[^"\n]*tsops\.cjs" \$args/);
      expect(cmd).not.toMatch(/\/bin\/sh|bash/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the packed tarball', () => {
  it('installs without scripts into a fresh project, and its CLI and library work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsops-pack-'));
    try {
      const npm = (args: string[], cwd: string) => spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
      // --ignore-scripts: the tests run on the bundle this suite was started with, so prepack must not rebuild it under them.
      const packed = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
      expect(packed.status, packed.stderr).toBe(0);
      const manifest = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      const paths = manifest[0]!.files.map((f) => f.path);
      expect(paths).toContain('bin/tsops.cjs');
      expect(paths).toContain('dist/cli/tsops.cjs');
      // The docs the help text and README point to (status --json's schema, the format).
      expect(paths).toContain('docs/status.md');
      expect(paths.filter((p) => !/^(bin\/tsops(-krm)?\.cjs|dist\/.*|docs\/[a-z-]+\.md|package\.json|README\.md|LICENSE)$/.test(p))).toEqual([]);
      const app = join(dir, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
      const installed = npm(['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(dir, manifest[0]!.filename)], app);
      expect(installed.status, installed.stderr).toBe(0);
      const bin = join(app, 'node_modules', 'tsops', 'bin', 'tsops.cjs');
      const cli = spawnSync(process.execPath, [bin, 'decrypt', encrypted], { cwd: app, env: sb.env, encoding: 'utf8' });
      expect(cli.stderr).toBe('');
      expect(cli.stdout).toBe('password: hunter2\n');
      writeFileSync(join(app, 'use.mjs'), `import { decryptFile } from 'tsops';\nconst data = await decryptFile(${JSON.stringify(encrypted)});\nprocess.stdout.write(String(data.password));\n`);
      const lib = spawnSync(process.execPath, ['use.mjs'], { cwd: app, env: sb.env, encoding: 'utf8' });
      expect(lib.stderr).toBe('');
      expect(lib.stdout).toBe('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
