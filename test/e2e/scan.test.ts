/**
 * Secret scanning through the built CLI in real repositories: the pre-commit
 * hook refusing a staged secret, staged content versus the working copy,
 * the allowlist and inline markers, values copied out of encrypted files,
 * `tsops scan` over a work tree, a plain directory and the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { gitEnv } from '../support/git.js';
import { buildCorpus, randomFrom, score } from '../support/secret-corpus.js';

let sb: Sandbox;
let env: NodeJS.ProcessEnv;
let n = 0;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const githubToken = (): string => `ghp_${randomFrom(ALNUM, 36)}`;

beforeAll(async () => {
  sb = await sandbox();
  env = { ...gitEnv(sb), GIT_CEILING_DIRECTORIES: sb.dir, GIT_CONFIG_NOSYSTEM: '1' };
});
afterAll(() => sb.cleanup());

function repo(config = 'creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: RECIPIENT\n', init = true) {
  const dir = join(sb.dir, `repo-${++n}`);
  mkdirSync(dir);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  const tsops = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input = '') => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8', input });
  const commit = (message: string) => spawnSync('git', ['commit', '-qm', message], { cwd: dir, env, encoding: 'utf8' });
  const write = (path: string, text: string | Buffer): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  if (init) git('init', '-q', '-b', 'main');
  write('.sops.yaml', config.replaceAll('RECIPIENT', sb.recipient));
  return { dir, git, tsops, commit, write };
}

describe('the pre-commit hook', () => {
  it('refuses a staged secret in an ordinary file with one line: file, line, rule, masked excerpt, the tsops set fix', () => {
    const r = repo();
    expect(r.tsops(['git', 'install']).status).toBe(0);
    const token = githubToken();
    r.write('deploy.sh', `#!/bin/sh\nexport GITHUB_TOKEN=${token}\n`);
    r.git('add', '-A');
    const c = r.commit('add deploy script');
    expect(c.status).toBe(1);
    expect(c.stderr).toContain(`tsops: deploy.sh:2:21: github/GITHUB_TOKEN: GITHUB_TOKEN=ghp_****************; fix: tsops edit secrets.enc.yaml to create it, then tsops set --value-stdin secrets.enc.yaml '["GITHUB_TOKEN"]'`);
    expect(c.stderr).toContain('commit refused: 1 secret in staged files');
    expect(c.stderr).not.toContain(token.slice(4));
    expect(r.git('rev-list', '--all')).toBe('');
  });

  it('lets a clean commit through, and loads no scanner rules when nothing is staged', () => {
    const r = repo();
    expect(r.tsops(['git', 'install']).status).toBe(0);
    r.write('README.md', '# project\n');
    r.git('add', '-A');
    expect(r.commit('readme').status).toBe(0);
    const g = r.tsops(['guard'], { NODE_DEBUG: 'module' });
    expect(g.status).toBe(0);
    expect(g.stderr).not.toContain('@secretlint');
  });

  it('scans the staged blob, not the working copy', () => {
    const r = repo();
    r.write('settings.py', 'TOKEN = None\n');
    r.git('add', '-A');
    // The secret only in the working copy: the commit records the clean version.
    r.write('settings.py', `TOKEN = "${githubToken()}"\n`);
    expect(r.tsops(['guard']).status).toBe(0);
    // The secret staged, then removed from the working copy: the commit would still record it.
    r.git('add', '-A');
    r.write('settings.py', 'TOKEN = None\n');
    const g = r.tsops(['guard']);
    expect(g.status).toBe(1);
    expect(g.stderr).toContain('settings.py:1:10: github/GITHUB_TOKEN');
  });

  it('given files, as the pre-commit framework runs it, scans the staged version of each, committed or not', () => {
    const r = repo();
    r.write('old.txt', `${githubToken()}\n`);
    r.git('add', '-A');
    r.git('commit', '-qm', 'an old leak', '--no-verify');
    r.write('new.txt', 'clean\n');
    r.git('add', '-A');
    expect(r.tsops(['guard']).status).toBe(0);
    expect(r.tsops(['guard', 'new.txt']).status).toBe(0);
    const all = r.tsops(['guard', 'old.txt', 'new.txt']);
    expect(all.status).toBe(1);
    expect(all.stderr).toContain('old.txt:1:1: github/GITHUB_TOKEN');
  });

  it('finds a value copied out of an encrypted file, names where it is encrypted, and never prints it', () => {
    const r = repo();
    const password = randomFrom(ALNUM, 24);
    r.write('plain.yaml', `db:\n  password: ${password}\n`);
    const enc = r.tsops(['encrypt', '--filename-override', 'secrets.enc.yaml', 'plain.yaml']);
    expect(enc.status).toBe(0);
    r.write('secrets.enc.yaml', enc.stdout);
    r.write('plain.yaml', 'unused: true\n');
    r.write('app/.env', `DB_PASSWORD='${password}'\n`);
    r.git('add', '-A');
    const g = r.tsops(['guard']);
    expect(g.status).toBe(1);
    expect(g.stderr).toContain(`app/.env:1:14: tsops/known-value, the value of secrets.enc.yaml ["db"]["password"]: DB_PASSWORD='${password.slice(0, 4)}****************; fix: remove it from app/.env`);
    expect(g.stderr).not.toContain(password);
    // Without the key the value cannot be known: the encrypted file itself passes, nothing is claimed.
    const keyless = r.tsops(['guard'], { SOPS_AGE_KEY_FILE: join(r.dir, 'none.txt') });
    expect(keyless.status).toBe(0);
  });

  it('honours the inline markers and the config allowlist, by path and by rule', () => {
    const r = repo('creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: RECIPIENT\ntsops:\n  scan:\n    allow:\n      - path: fixtures/**\n      - path: "*.md"\n        rule: github\n');
    r.write('a.py', `T1 = "${githubToken()}"  # tsops:allow\n# secretlint-disable-next-line\nT2 = "${githubToken()}"\nT3 = "${githubToken()}"  # secretlint-disable-line\n`);
    r.write('fixtures/deep/tokens.txt', `${githubToken()}\n`);
    r.write('docs/readme.md', `token: ${githubToken()}\n`);
    r.write('docs/notes.txt', `token: ${githubToken()}\n`);
    r.git('add', '-A');
    const g = r.tsops(['guard']);
    expect(g.status).toBe(1);
    const lines = g.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('github/'))).toHaveLength(1);
    expect(g.stderr).toContain('docs/notes.txt:1:8: github/GITHUB_TOKEN');
    // The sops config with the tsops section is still a valid sops config: encryption works and warns of nothing.
    r.write('x.yaml', 'a: b\n');
    const enc = r.tsops(['encrypt', '--filename-override', 'x.enc.yaml', 'x.yaml']);
    expect(enc.status).toBe(0);
    expect(enc.stderr).toBe('');
  });

  it('a catch-all allowlist planted on a branch never silences the scan: what it passes over is counted aloud', () => {
    const r = repo('creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: RECIPIENT\ntsops:\n  scan:\n    allow:\n      - path: "**"\n');
    const token = githubToken();
    r.write('deploy.sh', `export GITHUB_TOKEN=${token}\n`);
    r.git('add', '-A');
    const g = r.tsops(['guard']);
    expect(g.stderr).toBe('tsops: warning: 1 finding passed over by tsops.scan.allow in .sops.yaml; check that these entries are yours\n');
    const s = r.tsops(['scan']);
    expect(s.stderr).toContain('tsops: warning: 1 finding passed over by tsops.scan.allow in .sops.yaml');
    expect(s.stderr + s.stdout + g.stdout).not.toContain(token.slice(4));
  });

  it('refuses an invalid allowlist on one line naming the config', () => {
    const r = repo('creation_rules: []\ntsops:\n  scan:\n    allow:\n      - paht: x\n');
    r.write('a.txt', 'hello\n');
    r.git('add', '-A');
    const g = r.tsops(['guard']);
    expect(g.status).not.toBe(0);
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(g.stderr).toMatch(/\.sops\.yaml.*paht/);
  });
});

describe('tsops scan', () => {
  it('says when a file was scanned only in part, so a secret past the limit is not passed over silently', () => {
    const r = repo();
    r.write('big.txt', 'x = 1\n'.repeat(200_000) + `token = ${githubToken()}\n`);
    r.git('add', 'big.txt');
    const s = r.tsops(['guard']);
    expect(s.stderr).toMatch(/^tsops: warning: 1 staged file scanned only in the first 1 MiB$/m);
    expect(r.tsops(['scan']).stderr).toMatch(/\(1 read up to 1 MiB only\)/);
  });

  it('scans the tracked files of a work tree, with a summary and exit codes 0 and 1', () => {
    const r = repo();
    const corpus = buildCorpus();
    for (const file of corpus.files) r.write(file.path, file.content);
    r.write('untracked.txt', `${githubToken()}\n`);
    r.git('add', '.sops.yaml', ...corpus.files.map((f) => f.path));
    const s = r.tsops(['scan']);
    expect(s.status).toBe(1);
    const findings = [...s.stderr.matchAll(/^tsops: ([^:]+):(\d+):\d+: /gm)].map((m) => ({ file: m[1]!, line: Number(m[2]) }));
    const result = score({ ...corpus, files: corpus.files.filter((f) => f.path !== 'local.ini') }, findings);
    expect(result.falsePositives).toEqual([]);
    expect(result.missed.map((m) => m.file)).toEqual(['notes/api.txt']);
    expect(s.stderr).toMatch(/tsops: scanned 22 files \(1 binary skipped\): 15 findings in 12 files\n$/);
    expect(s.stderr).not.toContain('untracked.txt');
    // A directory of the work tree: its tracked files only, named from the top of the repository.
    const sub = r.tsops(['scan', 'scripts']);
    expect(sub.status).toBe(1);
    expect(sub.stderr).toMatch(/^tsops: scripts\/release\.sh:2:21: github\/GITHUB_TOKEN[^\n]*\ntsops: scripts\/release\.sh:3:21: gitlab[^\n]*\ntsops: scanned 1 file: 2 findings in 1 file\n$/);

    const clean = repo();
    clean.write('a.txt', 'nothing here\n');
    clean.git('add', '-A');
    const c = clean.tsops(['scan']);
    expect(c.status).toBe(0);
    expect(c.stderr).toBe('tsops: scanned 2 files: no secrets found\n');
  });

  it('scans a directory outside git, and exits 2 for one it cannot read', () => {
    const r = repo(undefined, false);
    r.write('sub/key.txt', `token=${githubToken()}\n`);
    const s = r.tsops(['scan', '.'], { GIT_CEILING_DIRECTORIES: sb.dir });
    expect(s.status).toBe(1);
    expect(s.stderr).toContain('sub/key.txt:1:7: github/GITHUB_TOKEN');
    const missing = r.tsops(['scan', 'nowhere']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('tsops: nowhere: is not a directory\n');
    expect(r.tsops(['scan', '--history']).status).toBe(2);
  });

  it('--history finds a secret removed in a later commit, named by the commit that added it', () => {
    const r = repo();
    r.write('app.cfg', 'token = none\n');
    r.git('add', '-A');
    r.commit('start');
    const token = githubToken();
    r.write('app.cfg', `token = ${token}\n`);
    r.git('commit', '-qam', 'oops');
    const leak = r.git('rev-parse', 'HEAD').trim();
    r.write('app.cfg', 'token = none\n');
    r.git('commit', '-qam', 'remove it');
    r.git('mv', 'app.cfg', 'renamed.cfg');
    r.git('commit', '-qm', 'rename');
    expect(r.tsops(['scan']).status).toBe(0);
    const h = r.tsops(['scan', '--history']);
    expect(h.status).toBe(1);
    expect(h.stderr).toContain(`tsops: app.cfg:1:9: github/GITHUB_TOKEN: token = ghp_**************** (added in commit ${leak.slice(0, 12)}); fix:`);
    expect(h.stderr).toContain('and rotate the secret: it stays readable in the history');
    expect(h.stderr).toMatch(/scanned 4 commits, 3 blobs: 1 finding in 1 blob\n$/);
    expect(h.stderr).not.toContain(token.slice(4));
  });

  it('--history on a repository without commits is clean', () => {
    const r = repo();
    const h = r.tsops(['scan', '--history']);
    expect(h.status).toBe(0);
    expect(h.stderr).toBe('tsops: scanned 0 commits, 0 blobs: no secrets found\n');
  });
});
