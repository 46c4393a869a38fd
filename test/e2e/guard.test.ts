/**
 * The pre-commit guard and `git install` in real repositories: coverage by
 * creation rules, staged content only, keyless checks of each value, type
 * changes, renames, links, symlinked .gitattributes, and life outside git.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { HAS_INTEROP, INTEROP } from '../support/interop.js';
import { gitEnv } from '../support/git.js';

let sb: Sandbox;
let env: NodeJS.ProcessEnv;
let n = 0;

beforeAll(async () => {
  sb = await sandbox();
  env = { ...gitEnv(sb), GIT_CEILING_DIRECTORIES: sb.dir, GIT_CONFIG_NOSYSTEM: '1' };
});
afterAll(() => sb.cleanup());

/** An environment with no key that opens anything. */
const noKeys = (dir: string): NodeJS.ProcessEnv => ({ ...env, SOPS_AGE_KEY_FILE: join(dir, 'missing-keys.txt'), HOME: join(dir, 'nohome'), XDG_CONFIG_HOME: join(dir, 'nohome') });

interface Repo {
  dir: string;
  git: (...args: string[]) => string;
  tsops: (args: string[], extraEnv?: NodeJS.ProcessEnv) => ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
  commit: (message: string, extraEnv?: NodeJS.ProcessEnv) => { status: number | null; stderr: string };
  write: (path: string, text: string) => void;
}

function repo(config?: string): Repo {
  const dir = join(sb.dir, `repo-${++n}`);
  mkdirSync(dir);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  const tsops = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const commit = (message: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync('git', ['commit', '-qm', message], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  };
  const write = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  git('init', '-q', '-b', 'main');
  if (config !== undefined) write('.sops.yaml', config.replaceAll('RECIPIENT', sb.recipient));
  return { dir, git, tsops, commit, write };
}

const SECRETS_RULE = 'creation_rules:\n  - path_regex: secrets/.*\n    age: RECIPIENT\n';

describe('coverage by creation rules', () => {
  it('refuses a plaintext file that only a creation rule covers, naming the file and key, never the value', () => {
    const r = repo(SECRETS_RULE);
    expect(r.tsops(['git', 'install']).status).toBe(0);
    r.write('secrets/leak.yaml', 'db:\n  password: hunter2\n');
    r.git('add', '-A');
    const blocked = r.commit('leak');
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain('tsops: secrets/leak.yaml is not encrypted (plaintext at ["db"]["password"])');
    expect(blocked.stderr).not.toContain('hunter2');
    expect(r.git('log', '--oneline', '--all')).toBe('');
    // Encrypted (the rule supplies the key), it passes.
    expect(r.tsops(['encrypt', '-i', 'secrets/leak.yaml']).status).toBe(0);
    r.git('add', 'secrets/leak.yaml');
    expect(r.commit('encrypted').status).toBe(0);
  });

  it('checks the rules even with no .gitattributes at all, and leaves files outside the rules alone', () => {
    const r = repo(SECRETS_RULE);
    r.write('secrets/a/deep.env', 'TOKEN=abc\n');
    r.write('README.md', 'password: not-a-secret\n');
    r.git('add', '-A');
    const guard = r.tsops(['guard', '--staged']);
    expect(guard.status).toBe(1);
    expect(guard.stderr.trim().split('\n')).toEqual([
      'tsops: secrets/a/deep.env is not encrypted (plaintext at ["TOKEN"]); fix: tsops encrypt -i secrets/a/deep.env && git add secrets/a/deep.env',
      'tsops: commit refused: 1 file must be encrypted first',
    ]);
  });

  it('quotes a file name with spaces or quotes in the fix, so it can be pasted', () => {
    const r = repo(SECRETS_RULE);
    r.write("my secrets/it's.yaml", 'k: v\n');
    r.git('add', '-A');
    const guard = r.tsops(['guard']);
    expect(guard.status).toBe(1);
    expect(guard.stderr).toContain(`fix: tsops encrypt -i 'my secrets/it'\\''s.yaml' && git add 'my secrets/it'\\''s.yaml'`);
    const fix = /fix: (.*)$/m.exec(guard.stderr)![1]!;
    const fixed = spawnSync('sh', ['-c', fix], { cwd: r.dir, env, encoding: 'utf8' });
    expect(fixed.status).toBe(0);
    expect(r.tsops(['guard']).status).toBe(0);
  });

  it('reads the staged blob, not the working copy', () => {
    const r = repo(SECRETS_RULE);
    r.write('secrets/s.yaml', 'token: hunter2\n');
    r.git('add', '-A');
    // Encrypting the working copy without staging it does not help.
    expect(r.tsops(['encrypt', '-i', 'secrets/s.yaml']).status).toBe(0);
    expect(r.tsops(['guard']).stderr).toContain('secrets/s.yaml is not encrypted');
    // Staged encrypted, a plaintext working copy is not what gets committed.
    r.git('add', 'secrets/s.yaml');
    r.write('secrets/s.yaml', 'token: hunter2\n');
    const ok = r.tsops(['guard']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    // `git commit -a` stages into a temporary index: the hook checks that one.
    expect(r.commit('encrypted').status).toBe(0);
    expect(r.tsops(['git', 'install']).status).toBe(0);
    const all = spawnSync('git', ['commit', '-qam', 'all'], { cwd: r.dir, env, encoding: 'utf8' });
    expect(all.status).not.toBe(0);
    expect(all.stderr).toContain('secrets/s.yaml is not encrypted');
  });

  it('counts the staged config too: narrowing the rule in the same commit does not let a file through', () => {
    const r = repo(SECRETS_RULE);
    r.git('add', '.sops.yaml');
    expect(r.commit('config').status).toBe(0);
    r.write('.sops.yaml', SECRETS_RULE.replace('secrets/.*', '^nothing$').replaceAll('RECIPIENT', sb.recipient));
    r.write('secrets/x.json', '{"k": "hunter2"}\n');
    r.git('add', 'secrets/x.json');
    r.git('checkout', '--', '.sops.yaml');
    // Working copy narrowed, index still has the wide rule.
    r.write('.sops.yaml', SECRETS_RULE.replace('secrets/.*', '^nothing$').replaceAll('RECIPIENT', sb.recipient));
    expect(r.tsops(['guard']).stderr).toContain('secrets/x.json is not encrypted');
  });

  it('a rule without path_regex does not make every file a secret, nor hide a later rule\'s files', () => {
    const r = repo('creation_rules:\n  - age: RECIPIENT\n');
    r.write('notes.yaml', 'a: b\n');
    r.git('add', '-A');
    const guard = r.tsops(['guard']);
    expect(guard.stderr).toBe('');
    expect(guard.status).toBe(0);
    // sops would pick the catch-all first; the path_regex of the second rule still names secrets/.
    const late = repo('creation_rules:\n  - age: RECIPIENT\n  - path_regex: ^secrets/\n    age: RECIPIENT\n');
    late.write('notes.yaml', 'a: b\n');
    late.write('secrets/k.yaml', 'a: b\n');
    late.git('add', '-A');
    const refused = late.tsops(['guard']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('tsops: secrets/k.yaml is not encrypted');
    expect(refused.stderr).not.toContain('notes.yaml');
  });

  it('a broken config stops the commit with one line naming it', () => {
    const r = repo('creation_rules:\n  - path_regex: "(unclosed"\n    age: RECIPIENT\n');
    r.write('x.yaml', 'a: b\n');
    r.git('add', 'x.yaml');
    const guard = r.tsops(['guard']);
    expect(guard.status).not.toBe(0);
    expect(guard.stderr.trim().split('\n')).toHaveLength(1);
    expect(guard.stderr).toContain('.sops.yaml');
    expect(guard.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('keyless value checks', () => {
  function encryptedRepo(): Repo {
    const r = repo(SECRETS_RULE);
    expect(r.tsops(['git', 'install']).status).toBe(0);
    r.write('secrets/app.yaml', '# db settings\ndb:\n  user: admin\n  password: s3cret-value\nport_unencrypted: 5432\n');
    expect(r.tsops(['encrypt', '-i', 'secrets/app.yaml']).status).toBe(0);
    r.git('add', '-A');
    expect(r.commit('encrypted').status).toBe(0);
    return r;
  }

  it('refuses a hostile edit that replaces ENC[...] with plaintext or adds a plaintext key, without any key', () => {
    const r = encryptedRepo();
    const path = join(r.dir, 'secrets/app.yaml');
    const text = readFileSync(path, 'utf8');
    const edited = text.replace(/password: ENC\[[^\]]*\]/, 'password: hunter2').replace('port_unencrypted: 5432', 'port_unencrypted: 5432\nadded: also-plain');
    expect(edited).not.toBe(text);
    writeFileSync(path, edited);
    r.git('add', 'secrets/app.yaml');
    const guard = r.tsops(['guard'], noKeys(r.dir));
    expect(guard.status).toBe(1);
    expect(guard.stderr).toContain('tsops: secrets/app.yaml has plaintext where its rules want encrypted values: ["db"]["password"], ["added"]; fix:');
    expect(guard.stderr).not.toContain('hunter2');
    expect(guard.stderr).not.toContain('also-plain');
    expect(r.commit('hostile', noKeys(r.dir)).status).not.toBe(0);
  });

  it('refuses a plaintext comment where the rules encrypt comments', () => {
    const r = encryptedRepo();
    const path = join(r.dir, 'secrets/app.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^db:/m, '# the password is hunter2\ndb:'));
    r.git('add', 'secrets/app.yaml');
    const guard = r.tsops(['guard'], noKeys(r.dir));
    expect(guard.status).toBe(1);
    expect(guard.stderr).toContain('a comment under the top level');
    expect(guard.stderr).not.toContain('hunter2');
  });

  it('accepts an untouched or properly re-encrypted file without keys, and a new _unencrypted key', () => {
    const r = encryptedRepo();
    expect(r.tsops(['set', 'secrets/app.yaml', '["db"]["password"]', '"rotated"']).status).toBe(0);
    const path = join(r.dir, 'secrets/app.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('port_unencrypted: 5432', 'port_unencrypted: 5432\nhost_unencrypted: db.local'));
    r.git('add', 'secrets/app.yaml');
    const guard = r.tsops(['guard'], noKeys(r.dir));
    expect(guard.stderr).toBe('');
    expect(guard.status).toBe(0);
    // With keys, the same edit does not verify: the MAC does not cover the added key.
    expect(r.tsops(['guard']).stderr).toContain('secrets/app.yaml does not verify');
  });

  it.skipIf(!HAS_INTEROP)('passes files sops itself wrote, without keys (no false alarms)', () => {
    const r = repo();
    r.write('.gitattributes', '*.yaml diff=tsops\n*.json diff=tsops\n*.env diff=tsops\n*.ini diff=tsops\n*.txt diff=tsops\n');
    const samples = ['sops-age-repo/secret.enc.yaml', 'sops-age-repo/secret.enc.json', 'sops-age-repo/secret.enc.env', 'sops-repo/example.yaml', 'sops-repo/example.json', 'sops-repo/example.ini', 'sops-repo/example.txt', 'sops-repo/comments.enc.yaml', 'sops-repo/format.enc.ini', 'sops-repo/format-2.enc.ini', 'sops-repo/format.enc.env', 'sops-repo/multiple_keys.yaml'];
    for (const s of samples) copyFileSync(join(INTEROP, s), join(r.dir, s.replace('/', '-')));
    r.git('add', '-A');
    const guard = r.tsops(['guard'], noKeys(r.dir));
    expect(guard.stderr).toBe('');
    expect(guard.status).toBe(0);
  });
});

describe('type changes, renames and links', () => {
  it('catches a symlink replaced by a plaintext file (a type change)', () => {
    const r = repo();
    expect(r.tsops(['git', 'install']).status).toBe(0);
    r.write('real.yaml', 'password: hunter2\n');
    expect(r.tsops(['encrypt', '--age', sb.recipient, '--output', 'real.enc.yaml', 'real.yaml']).status).toBe(0);
    unlinkSync(join(r.dir, 'real.yaml'));
    symlinkSync('real.enc.yaml', join(r.dir, 'app.enc.yaml'));
    r.git('add', '-A');
    expect(r.commit('link').status).toBe(0);
    unlinkSync(join(r.dir, 'app.enc.yaml'));
    r.write('app.enc.yaml', 'password: hunter2\n');
    r.git('add', 'app.enc.yaml');
    expect(r.git('diff', '--cached', '--name-status')).toMatch(/^T\s+app\.enc\.yaml/m);
    const blocked = r.commit('type change');
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain('app.enc.yaml is not encrypted');
  });

  it('catches a plaintext file renamed or copied into a covered path', () => {
    const r = repo(SECRETS_RULE);
    r.write('notes.yaml', 'token: hunter2\n');
    r.git('add', '-A');
    expect(r.commit('notes').status).toBe(0);
    mkdirSync(join(r.dir, 'secrets', 'copy'), { recursive: true });
    r.git('mv', 'notes.yaml', 'secrets/notes.yaml');
    copyFileSync(join(r.dir, 'secrets/notes.yaml'), join(r.dir, 'secrets/copy/notes.yaml'));
    r.git('add', '-A');
    const guard = r.tsops(['guard']);
    expect(guard.status).toBe(1);
    expect(guard.stderr).toContain('secrets/notes.yaml is not encrypted');
    expect(guard.stderr).toContain('secrets/copy/notes.yaml is not encrypted');
  });

  it('checks what a covered symlink points to inside the repository', () => {
    const r = repo(SECRETS_RULE);
    r.write('plain.yaml', 'token: hunter2\n');
    mkdirSync(join(r.dir, 'secrets'));
    symlinkSync('../plain.yaml', join(r.dir, 'secrets/db.yaml'));
    r.git('add', '-A');
    const guard = r.tsops(['guard']);
    expect(guard.status).toBe(1);
    expect(guard.stderr).toContain('secrets/db.yaml (a link to plain.yaml) is not encrypted');
    expect(guard.stderr).not.toContain('hunter2');
  });

  it('checks a covered symlink to a file committed earlier, and passes a link to a directory', () => {
    const r = repo(SECRETS_RULE);
    r.write('plain.yaml', 'token: hunter2\n');
    r.write('docs/readme.yaml', 'title: docs\n');
    r.git('add', '-A');
    expect(r.commit('plain').status).toBe(0);
    mkdirSync(join(r.dir, 'secrets'));
    symlinkSync('../plain.yaml', join(r.dir, 'secrets/db.yaml'));
    symlinkSync('../docs', join(r.dir, 'secrets/docs'));
    r.git('add', '-A');
    const guard = r.tsops(['guard']);
    expect(guard.status).toBe(1);
    expect(guard.stderr.trim().split('\n')).toEqual([
      'tsops: secrets/db.yaml (a link to plain.yaml) is not encrypted (plaintext at ["token"]); fix: tsops encrypt -i plain.yaml && git add plain.yaml',
      'tsops: commit refused: 1 file must be encrypted first',
    ]);
  });
});

describe('git install', () => {
  it('derives exact .gitattributes patterns from the creation rules and names the rules it cannot map', () => {
    const r = repo([
      'creation_rules:',
      '  - path_regex: ^secrets/.*\\.yaml$',
      '    age: RECIPIENT',
      '  - path_regex: \\.enc\\.(ya?ml|json)$',
      '    age: RECIPIENT',
      '  - path_regex: prod/.*',
      '    age: RECIPIENT',
      '  - path_regex: "(?i)^keys/"',
      '    age: RECIPIENT',
      '  - age: RECIPIENT',
      '',
    ].join('\n'));
    const install = r.tsops(['git', 'install']);
    expect(install.status).toBe(0);
    const warnings = install.stderr.trim().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^tsops: warning: \.sops\.yaml: creation rule 4 \(line 8\): path_regex "\(\?i\)\^keys\/" cannot be expressed as a glob; not added to \.gitattributes \(the guard still checks it\)$/);
    expect(warnings[1]).toMatch(/^tsops: warning: \.sops\.yaml: creation rule 5 \(line 10\) has no path_regex/);
    const attributes = readFileSync(join(r.dir, '.gitattributes'), 'utf8');
    expect(attributes).toBe([
      'secrets/**/*.yaml diff=tsops merge=tsops',
      '*.enc.yaml diff=tsops merge=tsops',
      '*.enc.yml diff=tsops merge=tsops',
      '*.enc.json diff=tsops merge=tsops',
      '**/*prod/** diff=tsops merge=tsops',
      '',
    ].join('\n'));
    // git routes exactly the paths the regexes match.
    const regexes = [/^secrets\/.*\.yaml$/, /\.enc\.(ya?ml|json)$/, /prod\/.*/];
    const paths = ['secrets/a.yaml', 'secrets/x/y/z.yaml', 'a/secrets/b.yaml', 'secrets/a.yml', 'secrets/a.yaml.bak', 'x.enc.yaml', 'd/e/x.enc.yml', 'x.enc.json', 'x.enc.jsonx', 'x.enc', 'prod/a', 'aprod/b/c', 'a/prod/b', 'prod', 'production/a', 'b/preprod/x.txt', 'README.md'];
    const out = execFileSync('git', ['check-attr', '-z', '--stdin', 'diff'], { cwd: r.dir, env, input: paths.join('\0') + '\0', encoding: 'utf8' }).split('\0');
    for (let i = 0; i + 2 < out.length; i += 3) {
      expect({ path: out[i], routed: out[i + 2] === 'tsops' }).toEqual({ path: out[i], routed: regexes.some((re) => re.test(out[i]!)) });
    }
  });

  it('keeps the default patterns when there is no config', () => {
    const r = repo();
    expect(r.tsops(['git', 'install']).status).toBe(0);
    expect(readFileSync(join(r.dir, '.gitattributes'), 'utf8')).toContain('*.enc.yaml diff=tsops merge=tsops');
  });

  it('refuses to write through a symlinked .gitattributes', () => {
    const r = repo(SECRETS_RULE);
    const outside = join(sb.dir, `outside-${n}.txt`);
    writeFileSync(outside, 'untouched\n');
    symlinkSync(outside, join(r.dir, '.gitattributes'));
    const install = r.tsops(['git', 'install']);
    expect(install.status).toBe(3);
    expect(install.stderr.trim().split('\n')).toHaveLength(1);
    expect(install.stderr).toMatch(/\.gitattributes: is a symbolic link; git ignores it/);
    expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
    expect(existsSync(join(r.dir, '.git', 'hooks', 'pre-commit'))).toBe(false);
  });

  it('init refuses a symlinked .gitignore or .gitattributes before writing anything, and never writes a config through a link', () => {
    for (const name of ['.gitignore', '.gitattributes']) {
      const r = repo();
      const outside = join(sb.dir, `outside-${n}-${name}`);
      writeFileSync(outside, 'untouched\n');
      symlinkSync(outside, join(r.dir, name));
      const init = r.tsops(['init', '--yes', '--no-key', '--age', sb.recipient]);
      expect(init.status).toBe(3);
      expect(init.stderr).toMatch(new RegExp(`^tsops: .*/${name.replace('.', '\\.')}: is a symbolic link; git ignores it`));
      expect(init.stderr.trim().split('\n')).toHaveLength(1);
      expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
      expect(existsSync(join(r.dir, '.sopsrc'))).toBe(false);
    }
    const r = repo();
    const target = join(sb.dir, `planted-config-${n}`);
    symlinkSync(target, join(r.dir, '.sopsrc'));
    expect(r.tsops(['init', '--yes', '--no-key', '--age', sb.recipient]).status).toBe(0);
    expect(existsSync(target)).toBe(false);
  });

  it('init writes patterns from the regex it was given', () => {
    const r = repo();
    rmSync(join(r.dir, '.sops.yaml'), { force: true });
    const init = r.tsops(['init', '--yes', '--no-key', '--age', sb.recipient, '--path-regex', '^secrets/']);
    expect(init.status).toBe(0);
    expect(readFileSync(join(r.dir, '.gitattributes'), 'utf8')).toBe('secrets/** diff=tsops merge=tsops\n');
  });
});

describe('outside a git repository', () => {
  it('guard, git install and init say so on one line', () => {
    const dir = join(sb.dir, 'not-a-repo');
    mkdirSync(dir);
    const run = (args: string[]) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env, encoding: 'utf8' });
    for (const args of [['guard', '--staged'], ['git', 'install']]) {
      const r = run(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`tsops: ${dir}: not a git repository\n`);
    }
    const init = run(['init', '--yes', '--no-key', '--age', sb.recipient]);
    expect(init.status).toBe(0);
    expect(init.stderr).toBe('');
    expect(init.stdout).toContain('tsops init: not a git repository; the git integration is not installed');
  });
});
