/** updatekeys and rotate: removed keys lose access, added keys change only metadata, bulk runs report per file. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';

let sb: Sandbox;
let a: { identity: string; recipient: string };
let b: { identity: string; recipient: string };
beforeAll(async () => {
  sb = await sandbox();
  a = await throwawayAgeKey();
  b = await throwawayAgeKey();
});
afterAll(() => sb.cleanup());

const as = (k: { identity: string }) => ({ SOPS_AGE_KEY: k.identity, SOPS_AGE_KEY_FILE: '' });
const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' } });

function repo(recipients: string[]): string {
  const dir = join(sb.dir, `r${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${recipients.join(',')}\n`);
  git(dir, 'init', '-q');
  return dir;
}

describe('updatekeys', () => {
  it('removing a recipient rotates the data key: it cannot decrypt any more, the kept one can', () => {
    const dir = repo([a.recipient, b.recipient]);
    writeFileSync(join(dir, 's.yaml'), 'password: hunter2\n');
    expect(sb.run(['encrypt', '-i', 's.yaml'], { cwd: dir }).status).toBe(0);
    const before = readFileSync(join(dir, 's.yaml'), 'utf8').match(/password: (ENC\[[^\]]*\])/)![1];
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${a.recipient}\n`);
    const r = sb.run(['updatekeys', '--yes', 's.yaml'], { cwd: dir, env: as(a) });
    expect(r.stderr).toMatch(/new data key/);
    expect(r.stdout).toContain(`- ${b.recipient}`);
    expect(r.status).toBe(0);
    const after = readFileSync(join(dir, 's.yaml'), 'utf8').match(/password: (ENC\[[^\]]*\])/)![1];
    expect(after).not.toBe(before);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: as(b) }).status).toBe(128);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: as(a) }).stdout).toBe('password: hunter2\n');
    expect(sb.run(['updatekeys', '--yes', 's.yaml'], { cwd: dir, env: as(a) }).stdout).toMatch(/0 changed, 1 unchanged/);
  });

  it('adding a recipient changes only the metadata lines', () => {
    const dir = repo([a.recipient]);
    writeFileSync(join(dir, 's.yaml'), 'password: hunter2\nuser: admin\n');
    sb.run(['encrypt', '-i', 's.yaml'], { cwd: dir });
    git(dir, 'add', 's.yaml');
    git(dir, 'commit', '-qm', 'x');
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${a.recipient},${b.recipient}\n`);
    expect(sb.run(['updatekeys', '-y', 's.yaml'], { cwd: dir, env: as(a) }).status).toBe(0);
    const changed = git(dir, 'diff', '-U0').split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(changed.some((l) => /password|user:/.test(l))).toBe(false);
    expect(changed.some((l) => l.includes(b.recipient))).toBe(true);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: as(b) }).status).toBe(0);
  });

  it('without a terminal it refuses to change files unless --yes', () => {
    const dir = repo([a.recipient]);
    writeFileSync(join(dir, 's.yaml'), 'k: v\n');
    sb.run(['encrypt', '-i', 's.yaml'], { cwd: dir });
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${b.recipient}\n`);
    const r = sb.run(['updatekeys', 's.yaml'], { cwd: dir, env: as(a) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--yes/);
  });

  it('500 files with -r: 498 updated, the unreadable and the corrupt one reported, partial failure', async () => {
    const dir = repo([a.recipient]);
    mkdirSync(join(dir, 'many'));
    const template = await encryptText('yaml', 'token: t\nname: name-value\n', a.recipient);
    for (let i = 0; i < 498; i++) writeFileSync(join(dir, 'many', `f${i}.enc.yaml`), template);
    writeFileSync(join(dir, 'many', 'unreadable.enc.yaml'), await encryptText('yaml', 'token: t\n', b.recipient));
    writeFileSync(join(dir, 'many', 'corrupt.enc.yaml'), template.replace(/token: ENC\[AES256_GCM,data:[^,]+/, 'token: ENC[AES256_GCM,data:AAAA'));
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${a.recipient},${b.recipient}\n`);
    const r = sb.run(['updatekeys', '-y', '-r', 'many'], { cwd: dir, env: as(a) });
    expect(r.stdout).toMatch(/498 changed, 0 unchanged, 2 failed/);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unreadable\.enc\.yaml: could not decrypt the data key/);
    expect(r.stderr).toMatch(/corrupt\.enc\.yaml: could not decrypt value/);
    expect(sb.run(['decrypt', 'many/f7.enc.yaml'], { cwd: dir, env: as(b) }).stdout).toBe('token: t\nname: name-value\n');
  }, 120_000);
});

describe('updatekeys applies the rule\'s Shamir threshold, as sops does', () => {
  const groups = (keys: { recipient: string }[], threshold?: number) =>
    `creation_rules:\n  - key_groups:\n${keys.map((k) => `      - age: [${k.recipient}]\n`).join('')}${threshold ? `    shamir_threshold: ${threshold}\n` : ''}`;
  const both = (...keys: { identity: string }[]) => ({ SOPS_AGE_KEY: keys.map((k) => k.identity).join('\n'), SOPS_AGE_KEY_FILE: '' });

  it('a threshold-only change is applied, and three groups can become two with shamir_threshold 2', async () => {
    const c = await throwawayAgeKey();
    const dir = repo([a.recipient]);
    writeFileSync(join(dir, '.sopsrc'), groups([a, b, c]));
    writeFileSync(join(dir, 's.yaml'), 'password: hunter2\n');
    expect(sb.run(['encrypt', '-i', 's.yaml'], { cwd: dir }).status).toBe(0);
    expect(readFileSync(join(dir, 's.yaml'), 'utf8')).toMatch(/shamir_threshold: 3/);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: both(a, b) }).status).not.toBe(0);

    // Only the threshold changes: updatekeys sees it and applies it; two of the three groups now suffice.
    writeFileSync(join(dir, '.sopsrc'), groups([a, b, c], 2));
    const t = sb.run(['updatekeys', '--yes', 's.yaml'], { cwd: dir, env: both(a, b, c) });
    expect(t.stdout).toMatch(/shamir threshold: 2/);
    expect(t.status).toBe(0);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: both(a, b) }).stdout).toBe('password: hunter2\n');

    // Dropping a group keeps the rule's threshold instead of the file's.
    writeFileSync(join(dir, '.sopsrc'), groups([a, b], 2));
    const r = sb.run(['updatekeys', '--yes', 's.yaml'], { cwd: dir, env: both(a, b, c) });
    expect(r.stderr).not.toMatch(/not possible/);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 's.yaml'), 'utf8')).toMatch(/shamir_threshold: 2/);
    expect(sb.run(['decrypt', 's.yaml'], { cwd: dir, env: both(a, b) }).stdout).toBe('password: hunter2\n');
  });
});

describe('status', () => {
  it('--json reports keys, config drift and MAC state; --recipient answers who can read what', () => {
    const dir = repo([a.recipient]);
    writeFileSync(join(dir, 'one.yaml'), 'k: v\n');
    writeFileSync(join(dir, 'two.yaml'), 'k: v\n');
    sb.run(['encrypt', '-i', 'one.yaml'], { cwd: dir });
    sb.run(['encrypt', '-i', '--age', b.recipient, 'two.yaml'], { cwd: dir });
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - age: ${a.recipient} # alice\n`);
    const r = sb.run(['status', '--json'], { cwd: dir, env: as(a) });
    expect(r.status).toBe(0);
    const { files } = JSON.parse(r.stdout);
    const one = files.find((f: { file: string }) => f.file === 'one.yaml');
    const two = files.find((f: { file: string }) => f.file === 'two.yaml');
    expect(one).toMatchObject({ format: 'yaml', threshold: null, mac: 'ok', config: { state: 'current' } });
    expect(one.groups[0].keys[0]).toEqual({ type: 'age', id: a.recipient, name: 'alice' });
    expect(two).toMatchObject({ mac: 'undecryptable', config: { state: 'stale', missing: [a.recipient], extra: [b.recipient] } });
    const byB = JSON.parse(sb.run(['status', '--json', '--recipient', b.recipient], { cwd: dir }).stdout).files;
    expect(byB.map((f: { file: string }) => f.file)).toEqual(['two.yaml']);
    expect(sb.run(['status'], { cwd: dir, env: as(a) }).stdout).toMatch(/one\.yaml\n {4}keys: alice/);
  });
});

describe('rotate -r', () => {
  it('rotates every encrypted file under a directory and reports the ones it cannot', async () => {
    const dir = repo([a.recipient]);
    mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
    const ok = await encryptText('yaml', 'token: t\n', a.recipient);
    writeFileSync(join(dir, 'tree', 'one.enc.yaml'), ok);
    writeFileSync(join(dir, 'tree', 'sub', 'two.enc.yaml'), ok);
    writeFileSync(join(dir, 'tree', 'foreign.enc.yaml'), await encryptText('yaml', 'token: t\n', b.recipient));
    writeFileSync(join(dir, 'tree', 'plain.txt'), 'not encrypted\n');
    const r = sb.run(['rotate', '-r', 'tree'], { cwd: dir, env: as(a) });
    expect(r.stdout).toMatch(/rotate: 2 rotated, 1 failed/);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/foreign\.enc\.yaml/);
    const after = readFileSync(join(dir, 'tree', 'one.enc.yaml'), 'utf8');
    expect(after).not.toBe(ok);
    expect(sb.run(['decrypt', 'tree/sub/two.enc.yaml'], { cwd: dir, env: as(a) }).stdout).toBe('token: t\n');
    expect(readFileSync(join(dir, 'tree', 'plain.txt'), 'utf8')).toBe('not encrypted\n');
  });
});
