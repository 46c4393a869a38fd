/**
 * .pre-commit-hooks.yaml: the hooks run the way the pre-commit framework
 * runs them (the staged files it lists, filtered by `files`/`exclude`/`types`,
 * appended to `entry` as arguments, in the repository root), in real git
 * repositories; then, where `pre-commit` is installed, by the framework itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { gitEnv } from '../support/git.js';
import { PRE_COMMIT } from '../support/tools.js';

interface Hook {
  id: string;
  entry: string;
  language: string;
  pass_filenames?: boolean;
  require_serial?: boolean;
  files?: string;
  exclude?: string;
  types?: string[];
}

const HOOKS = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Hook[];
const RULES = 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: RECIPIENT\n';

let sb: Sandbox;
let env: NodeJS.ProcessEnv;
let n = 0;

beforeAll(async () => {
  sb = await sandbox();
  // gitEnv puts a `tsops` on PATH: what `npm install -g` of the package gives a `language: node` hook's environment.
  env = { ...gitEnv(sb), GIT_CEILING_DIRECTORIES: sb.dir, GIT_CONFIG_NOSYSTEM: '1' };
});
afterAll(() => sb.cleanup());

function repo() {
  const dir = join(sb.dir, `repo-${++n}`);
  mkdirSync(dir);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  const write = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const tsops = (args: string[]) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  write('.sops.yaml', RULES.replace('RECIPIENT', sb.recipient));
  return { dir, git, write, tsops };
}

/** pre-commit's file list for a hook: staged paths (or every tracked one for --all-files), then its filters. */
function filesFor(hook: Hook, dir: string, allFiles: boolean): string[] {
  const listed = allFiles
    ? execFileSync('git', ['ls-files', '-z'], { cwd: dir, env, encoding: 'utf8' })
    : execFileSync('git', ['diff', '--staged', '--name-only', '--no-ext-diff', '-z', '--diff-filter=ACMRTUXB'], { cwd: dir, env, encoding: 'utf8' });
  const include = new RegExp(hook.files ?? '');
  const exclude = hook.exclude ? new RegExp(hook.exclude) : undefined;
  const types = hook.types ?? ['file'];
  return listed
    .split('\0')
    .filter((f) => f !== '' && include.test(f) && !(exclude && exclude.test(f)))
    .filter((f) => types.length === 0 || types.every((t) => t === 'file'));
}

/** Runs a hook's entry with the files appended, as pre-commit does for `pass_filenames: true`. */
function runHook(hook: Hook, dir: string, options: { allFiles?: boolean } = {}) {
  const files = hook.pass_filenames === false ? [] : filesFor(hook, dir, options.allFiles ?? false);
  const [command, ...args] = hook.entry.split(/\s+/);
  return spawnSync(command!, [...args, ...files], { cwd: dir, env, encoding: 'utf8' });
}

describe('.pre-commit-hooks.yaml', () => {
  it('exposes the guard for a node install and for the tsops on PATH, each passing the staged files, once, unfiltered by type', () => {
    expect(HOOKS.map((h) => h.id)).toEqual(['tsops-guard', 'tsops-guard-system']);
    expect(HOOKS.map((h) => h.language)).toEqual(['node', 'system']);
    for (const hook of HOOKS) {
      expect(hook.entry).toBe('tsops guard');
      expect(hook.pass_filenames).toBe(true);
      expect(hook.require_serial).toBe(true);
      // No files filter: the creation rules decide what is covered. No type filter: a link is checked too.
      expect(hook.files).toBeUndefined();
      expect(hook.types).toEqual([]);
    }
  });

  const hook = HOOKS[0]!;

  it('refuses a staged plaintext file a creation rule covers, and passes it encrypted', () => {
    const r = repo();
    r.write('secrets/db.yaml', 'password: hunter2-precommit\n');
    r.write('README.md', 'plain text, not covered\n');
    r.git('add', '-A');
    const refused = runHook(hook, r.dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('tsops: secrets/db.yaml is not encrypted (plaintext at ["password"])');
    expect(refused.stderr).not.toContain('hunter2-precommit');
    expect(r.tsops(['encrypt', '-i', 'secrets/db.yaml']).status).toBe(0);
    r.git('add', 'secrets/db.yaml');
    const passed = runHook(hook, r.dir);
    expect(passed.stderr).toBe('');
    expect(passed.status).toBe(0);
  });

  it('checks the staged version of each file it is given, not the working copy', () => {
    const r = repo();
    r.write('secrets/db.yaml', 'password: hunter2-precommit\n');
    r.git('add', '-A');
    expect(r.tsops(['encrypt', '-i', 'secrets/db.yaml']).status).toBe(0); // encrypted on disk, plaintext in the index
    expect(runHook(hook, r.dir).status).toBe(1);
  });

  it('with --all-files, refuses a plaintext file committed earlier (pre-commit names every tracked file)', () => {
    const r = repo();
    r.write('secrets/old.yaml', 'token: committed-before-the-rule\n');
    r.git('add', '-A');
    r.git('commit', '-qm', 'before the guard');
    expect(runHook(hook, r.dir).status).toBe(0); // nothing staged: nothing to check
    const all = runHook(hook, r.dir, { allFiles: true });
    expect(all.status).toBe(1);
    expect(all.stderr).toContain('secrets/old.yaml is not encrypted');
  });

  it('refuses a staged link whose covered name points at plaintext', () => {
    const r = repo();
    r.write('plain.yaml', 'password: hunter2-link\n');
    mkdirSync(join(r.dir, 'secrets'));
    symlinkSync('../plain.yaml', join(r.dir, 'secrets', 'link.yaml'));
    r.git('add', '-A');
    const out = runHook(hook, r.dir);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('secrets/link.yaml (a link to plain.yaml) is not encrypted');
  });

  it('given files, checks only those: an uncovered file passes, a path outside the repository is a usage error', () => {
    const r = repo();
    r.write('secrets/db.yaml', 'password: hunter2-precommit\n');
    r.write('notes.txt', 'hello\n');
    r.git('add', '-A');
    const guard = (args: string[]) => spawnSync('tsops', ['guard', ...args], { cwd: r.dir, env, encoding: 'utf8' });
    expect(guard(['notes.txt']).status).toBe(0);
    expect(guard(['secrets/db.yaml']).status).toBe(1);
    // From a subdirectory, paths are relative to it.
    const sub = spawnSync('tsops', ['guard', 'db.yaml'], { cwd: join(r.dir, 'secrets'), env, encoding: 'utf8' });
    expect(sub.status).toBe(1);
    const outside = guard(['../elsewhere.yaml']);
    expect(outside.status).not.toBe(0);
    expect(outside.status).not.toBe(1);
    expect(outside.stderr.trimEnd().split('\n')).toHaveLength(1);
    // Without files, every staged change is checked, as the git hook `tsops git install` writes calls it.
    expect(guard([]).status).toBe(1);
  });
});

describe.skipIf(!PRE_COMMIT)(`the pre-commit framework ${PRE_COMMIT ?? '(absent)'} running the tsops-guard-system hook`, () => {
  it('refuses the commit of a covered plaintext file and passes it encrypted', () => {
    const r = repo();
    r.write('secrets/db.yaml', 'password: hunter2-framework\n');
    r.git('add', '-A');
    const pcEnv = { ...env, PRE_COMMIT_HOME: join(sb.dir, 'pre-commit-home') };
    const tryRepo = () => spawnSync('pre-commit', ['try-repo', ROOT, 'tsops-guard-system'], { cwd: r.dir, env: pcEnv, encoding: 'utf8', timeout: 120_000 });
    const refused = tryRepo();
    expect(refused.status, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toContain('tsops: secrets/db.yaml is not encrypted');
    expect(refused.stdout + refused.stderr).not.toContain('hunter2-framework');
    expect(r.tsops(['encrypt', '-i', 'secrets/db.yaml']).status).toBe(0);
    r.git('add', 'secrets/db.yaml');
    const passed = tryRepo();
    expect(passed.status, passed.stdout + passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/tsops guard\.+Passed/);
  });
});
