/** Real git repositories in temp dirs: plaintext diffs, value-level merges, conflicts resolved in the editor. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { gitEnv } from '../support/git-env.js';

let sb: Sandbox;
let env: NodeJS.ProcessEnv;
let n = 0;

beforeAll(async () => {
  sb = await sandbox();
  env = gitEnv(sb);
});
afterAll(() => sb.cleanup());

function repo(): { dir: string; git: (...args: string[]) => string; tsops: (...args: string[]) => ReturnType<typeof spawnSync> } {
  const dir = join(sb.dir, `repo-${++n}`);
  mkdirSync(dir);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  const tsops = (...args: string[]) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  expect(tsops('git', 'install').status).toBe(0);
  writeFileSync(join(dir, 'plain.yaml'), 'db:\n  user: admin\n  password: hunter2\napi:\n  token: tok-1\n  url: https://api\n');
  expect(tsops('encrypt', '--age', sb.recipient, '--output', 'secrets.enc.yaml', 'plain.yaml').status).toBe(0);
  git('add', 'secrets.enc.yaml', '.gitattributes');
  git('commit', '-qm', 'secrets');
  return { dir, git, tsops };
}

/** main and branch `a` each changed a different value of secrets.enc.yaml. */
function branchesChangingDifferentValues(): ReturnType<typeof repo> {
  const r = repo();
  r.git('checkout', '-qb', 'a');
  r.tsops('set', 'secrets.enc.yaml', '["db"]["password"]', '"from-a"');
  r.git('commit', '-qam', 'a');
  r.git('checkout', '-q', 'main');
  r.tsops('set', 'secrets.enc.yaml', '["api"]["token"]', '"from-main"');
  r.git('commit', '-qam', 'main');
  return r;
}

const decrypt = (dir: string): string => execFileSync(process.execPath, [TSOPS, 'decrypt', 'secrets.enc.yaml'], { cwd: dir, env, encoding: 'utf8' });

describe('git integration', () => {
  it('install is idempotent', () => {
    const { dir, tsops } = repo();
    const attributes = readFileSync(join(dir, '.gitattributes'), 'utf8');
    expect(tsops('git', 'install').stdout).toMatch(/already installed/);
    expect(readFileSync(join(dir, '.gitattributes'), 'utf8')).toBe(attributes);
  });

  it('git diff and git log -p show plaintext changes', () => {
    const { git, tsops } = repo();
    tsops('set', 'secrets.enc.yaml', '["db"]["password"]', '"swordfish"');
    const diff = git('diff');
    expect(diff).toContain('-  password: hunter2');
    expect(diff).toContain('+  password: swordfish');
    git('commit', '-qam', 'rotate pw');
    expect(git('log', '-p', '-1')).toContain('+  password: swordfish');
  });

  it('without keys, git diff shows the encrypted text and no errors', () => {
    const { dir, tsops } = repo();
    tsops('set', 'secrets.enc.yaml', '["db"]["password"]', '"swordfish"');
    const r = spawnSync('git', ['diff'], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: join(sb.dir, 'nope.txt'), HOME: dir, XDG_CONFIG_HOME: join(dir, 'none') }, encoding: 'utf8' });
    expect(r.stdout).toContain('ENC[AES256_GCM');
    expect(r.stderr).toBe('');
  });

  it('merges two branches that changed different secrets with no conflict', () => {
    const { dir } = branchesChangingDifferentValues();
    const merge = spawnSync('git', ['merge', '--no-edit', 'a'], { cwd: dir, env, encoding: 'utf8' });
    expect(merge.status).toBe(0);
    const plain = decrypt(dir);
    expect(plain).toContain('password: from-a');
    expect(plain).toContain('token: from-main');
  });

  it('merges cleanly when one side rotated the data key', () => {
    const { dir, git, tsops } = repo();
    git('checkout', '-qb', 'rotated');
    expect(tsops('rotate', '-i', 'secrets.enc.yaml').status).toBe(0);
    git('commit', '-qam', 'rotate');
    git('checkout', '-q', 'main');
    tsops('set', 'secrets.enc.yaml', '["api"]["url"]', '"https://new"');
    git('commit', '-qam', 'url');
    expect(spawnSync('git', ['merge', '--no-edit', 'rotated'], { cwd: dir, env }).status).toBe(0);
    expect(decrypt(dir)).toContain('url: https://new');
  });

  it('the same secret changed on both sides conflicts, and tsops resolve settles it in the editor', () => {
    const { dir, git, tsops } = repo();
    git('checkout', '-qb', 'a');
    tsops('set', 'secrets.enc.yaml', '["db"]["password"]', '"from-a"');
    tsops('set', 'secrets.enc.yaml', '["api"]["url"]', '"https://a"');
    git('commit', '-qam', 'a');
    git('checkout', '-q', 'main');
    tsops('set', 'secrets.enc.yaml', '["db"]["password"]', '"from-main"');
    git('commit', '-qam', 'main');
    const merge = spawnSync('git', ['merge', '--no-edit', 'a'], { cwd: dir, env, encoding: 'utf8' });
    expect(merge.status).not.toBe(0);
    expect(merge.stderr + merge.stdout).toMatch(/tsops resolve secrets\.enc\.yaml/);
    expect(readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8')).not.toContain('from-');
    expect(decrypt(dir)).toContain('url: https://a');
    const editor = join(dir, 'pick-theirs.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/resolved: from-main/resolved: both-agreed/' "$1"\n`);
    chmodSync(editor, 0o755);
    const resolve = spawnSync(process.execPath, [TSOPS, 'resolve', 'secrets.enc.yaml'], { cwd: dir, env: { ...env, EDITOR: editor }, encoding: 'utf8' });
    expect(resolve.stderr).toBe('');
    expect(resolve.status).toBe(0);
    expect(decrypt(dir)).toContain('password: both-agreed');
    git('add', 'secrets.enc.yaml');
    git('commit', '-qm', 'merged');
  });
});

export { ROOT };

describe('merging without keys', () => {
  it('falls back to git\'s own text merge', () => {
    const { dir } = branchesChangingDifferentValues();
    const noKeys = { ...env, SOPS_AGE_KEY_FILE: join(dir, 'missing.txt'), HOME: join(dir, 'nohome'), XDG_CONFIG_HOME: join(dir, 'nohome') };
    const merge = spawnSync('git', ['merge', '--no-edit', 'a'], { cwd: dir, env: noKeys, encoding: 'utf8' });
    expect(merge.status).not.toBe(0);
    expect(readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8')).toContain('<<<<<<< ours');
  });
});

describe('pre-commit guard', () => {
  it('blocks a plaintext file the attributes cover and passes an encrypted one', () => {
    const { dir, git } = repo();
    writeFileSync(join(dir, 'new.enc.yaml'), 'password: plaintext-oops\n');
    git('add', 'new.enc.yaml');
    const blocked = spawnSync('git', ['commit', '-qm', 'oops'], { cwd: dir, env, encoding: 'utf8' });
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toMatch(/new\.enc\.yaml is not encrypted; fix: tsops encrypt -i new\.enc\.yaml/);
    expect(blocked.stderr).not.toContain('plaintext-oops');
    execFileSync(process.execPath, [TSOPS, 'encrypt', '-i', '--age', sb.recipient, 'new.enc.yaml'], { cwd: dir, env });
    git('add', 'new.enc.yaml');
    expect(spawnSync('git', ['commit', '-qm', 'ok'], { cwd: dir, env }).status).toBe(0);
  });

  it('blocks a staged encrypted file whose MAC does not verify', () => {
    const { dir, git } = repo();
    const path = join(dir, 'secrets.enc.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(user: ENC\[AES256_GCM,data:)[^,]+/, '$1AAAA'));
    git('add', 'secrets.enc.yaml');
    const blocked = spawnSync('git', ['commit', '-qm', 'tampered'], { cwd: dir, env, encoding: 'utf8' });
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toMatch(/secrets\.enc\.yaml does not verify/);
  });
});
