/** The structure binding through the CLI: decrypt refuses a regrouped file, status says which files carry the binding and which lost it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { withoutBinding } from '../support/pipeline.js';
import { HAS_INTEROP, INTEROP } from '../support/interop.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' } });

function repo(): string {
  const dir = join(sb.dir, `r${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  git(dir, 'init', '-q');
  return dir;
}

describe('decrypt', () => {
  it('refuses a file whose list of maps was regrouped (exit 51), which the MAC alone lets through', () => {
    const dir = repo();
    writeFileSync(join(dir, 'users.yaml'), 'users:\n    - name: alice\n      role: admin\n    - name: bob\n      role: viewer\n');
    expect(sb.run(['encrypt', '--age', sb.recipient, '-i', 'users.yaml'], { cwd: dir }).status).toBe(0);
    const encrypted = readFileSync(join(dir, 'users.yaml'), 'utf8');
    // alice keeps her name but loses her role to a map of its own: every path and the value order stay the same.
    const regrouped = encrypted.replace(/(\n    - name: ENC\[[^\]]*\])\n      role:/, '$1\n    - role:');
    expect(regrouped).not.toBe(encrypted);
    writeFileSync(join(dir, 'users.yaml'), regrouped);
    const r = sb.run(['decrypt', 'users.yaml'], { cwd: dir });
    expect(r.status).toBe(51);
    expect(r.stderr).toMatch(/^tsops: users\.yaml: structure mismatch[^\n]*\n$/);
    expect(r.stdout).toBe('');
    // The same edit on a file without the binding (as sops writes it) decrypts: the gap is the format's.
    writeFileSync(join(dir, 'users.yaml'), withoutBinding(regrouped));
    expect(sb.run(['decrypt', 'users.yaml'], { cwd: dir }).status).toBe(0);
  });
});

describe('files tsops writes in a store that holds only strings', () => {
  it('set of a number, a null or a bool into .env and INI, and encrypt --output-type dotenv, still decrypt', () => {
    const dir = repo();
    writeFileSync(join(dir, 'w.env'), 'A=x\n');
    writeFileSync(join(dir, 'w.ini'), '[s]\na = x\n');
    for (const f of ['w.env', 'w.ini']) expect(sb.run(['encrypt', '--age', sb.recipient, '-i', f], { cwd: dir }).status).toBe(0);
    for (const [file, path] of [['w.env', '["PORT_unencrypted"]'], ['w.ini', '["s"]["port_unencrypted"]']] as const) {
      for (const value of ['5432', '0.1', 'null']) {
        const set = sb.run(['set', file, path, value], { cwd: dir });
        expect(set.status, set.stderr).toBe(0);
        const r = sb.run(['decrypt', file], { cwd: dir });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
    }
    expect(sb.run(['set', 'w.env', '["A"]', 'null'], { cwd: dir }).status).toBe(0);
    expect(sb.run(['decrypt', 'w.env'], { cwd: dir }).status).toBe(0);
    writeFileSync(join(dir, 'c.json'), '{"PORT_unencrypted": 5432, "A": "x"}');
    const converted = sb.run(['encrypt', '--age', sb.recipient, '--output-type', 'dotenv', 'c.json'], { cwd: dir });
    writeFileSync(join(dir, 'c.env'), converted.stdout);
    expect(sb.run(['decrypt', 'c.env'], { cwd: dir }).stdout).toBe('PORT_unencrypted=5432\nA=x\n');
  });
});

describe('guard', () => {
  it('warns when a staged file lost the binding its committed version had, and lets the commit through', () => {
    const dir = repo();
    // The guard looks at the files a creation rule covers.
    writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${sb.recipient}\n`);
    writeFileSync(join(dir, 'a.yaml'), 'password: hunter2\n');
    expect(sb.run(['encrypt', '-i', 'a.yaml'], { cwd: dir }).status).toBe(0);
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'encrypted');
    const a = join(dir, 'a.yaml');
    writeFileSync(a, withoutBinding(readFileSync(a, 'utf8')));
    git(dir, 'add', 'a.yaml');
    const r = sb.run(['guard', '--staged'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("tsops: warning: a.yaml lost its structure binding (HEAD has it): rewritten by sops, or removed; 'tsops rotate -i a.yaml' writes it again\n");
    // Written again by tsops: nothing to say.
    expect(sb.run(['rotate', '-i', 'a.yaml'], { cwd: dir }).status).toBe(0);
    git(dir, 'add', 'a.yaml');
    expect(sb.run(['guard', '--staged'], { cwd: dir }).stderr).toBe('');
    git(dir, 'commit', '-qm', 'rotated');

    // Downgraded to a version this tsops does not check: the same as stripped.
    writeFileSync(a, readFileSync(a, 'utf8').replace('tsops_structure: v1:', 'tsops_structure: v9:'));
    git(dir, 'add', 'a.yaml');
    expect(sb.run(['guard', '--staged'], { cwd: dir }).stderr).toMatch(/a\.yaml lost its structure binding/);
    git(dir, 'checkout', '--', '.');
    git(dir, 'reset', '-q', '--hard');

    // Stripped and renamed: the committed version is the source's.
    writeFileSync(a, withoutBinding(readFileSync(a, 'utf8')));
    git(dir, 'mv', 'a.yaml', 'b.yaml');
    git(dir, 'add', '-A');
    expect(sb.run(['guard', '--staged'], { cwd: dir }).stderr).toMatch(/b\.yaml lost its structure binding/);
  });
});

describe('status', () => {
  it('reports bound, unbound and lost', () => {
    const dir = repo();
    writeFileSync(join(dir, 'a.yaml'), 'password: hunter2\n');
    writeFileSync(join(dir, 'b.yaml'), 'password: hunter3\n');
    for (const f of ['a.yaml', 'b.yaml']) expect(sb.run(['encrypt', '--age', sb.recipient, '-i', f], { cwd: dir }).status).toBe(0);
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'encrypted');
    // A rewrite by sops keeps values and MAC but drops the fields it does not know.
    const b = join(dir, 'b.yaml');
    writeFileSync(b, withoutBinding(readFileSync(b, 'utf8')));
    writeFileSync(join(dir, 'c.yaml'), readFileSync(b, 'utf8'));
    const r = sb.run(['status', '--json'], { cwd: dir });
    expect(r.status).toBe(0);
    const byFile = Object.fromEntries((JSON.parse(r.stdout).files as { file: string; structure: string; mac: string }[]).map((f) => [f.file, f]));
    expect(byFile['a.yaml']).toMatchObject({ structure: 'bound', mac: 'ok' });
    expect(byFile['b.yaml']).toMatchObject({ structure: 'lost', mac: 'ok' });
    expect(byFile['c.yaml']).toMatchObject({ structure: 'unbound', mac: 'ok' });
    // A version this tsops does not check counts as none.
    writeFileSync(join(dir, 'a.yaml'), readFileSync(join(dir, 'a.yaml'), 'utf8').replace('tsops_structure: v1:', 'tsops_structure: v2:'));
    const again = JSON.parse(sb.run(['status', '--json'], { cwd: dir }).stdout).files as { file: string; structure: string }[];
    expect(again.find((f) => f.file === 'a.yaml')).toMatchObject({ structure: 'lost' });
    expect(sb.run(['status'], { cwd: dir }).stdout).toMatch(/b\.yaml\n.*\n.*structure: LOST/);
  });

  it.skipIf(!HAS_INTEROP)('a sops-written file is unbound', () => {
    const dir = repo();
    writeFileSync(join(dir, 'secret.enc.yaml'), readFileSync(join(INTEROP, 'sops-age-repo', 'secret.enc.yaml')));
    const r = sb.run(['status', '--json'], { cwd: dir, env: { SOPS_AGE_KEY_FILE: join(INTEROP, 'sops-age-repo', 'key.txt') } });
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ structure: 'unbound', mac: 'ok' });
  });
});
