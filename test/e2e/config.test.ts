/** A repository with one config file: no key flags, the right keys and leaves per file; Shamir key groups end to end. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

let sb: Sandbox;
const keys: { identity: string; recipient: string }[] = [];
beforeAll(async () => {
  sb = await sandbox();
  for (let i = 0; i < 3; i++) keys.push(await throwawayAgeKey());
});
afterAll(() => sb.cleanup());

function repoWith(config: string): string {
  const dir = join(sb.dir, `repo-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, 'prod'), { recursive: true });
  mkdirSync(join(dir, 'dev'), { recursive: true });
  writeFileSync(join(dir, '.sopsrc'), config);
  return dir;
}

const withKey = (...ids: string[]) => ({ SOPS_AGE_KEY: ids.join('\n'), SOPS_AGE_KEY_FILE: '' });

describe('.sopsrc creation rules', () => {
  it('three rules: each file gets its rule keys and leaves, with no key flags', () => {
    const [a, b, c] = keys as [typeof keys[0], typeof keys[0], typeof keys[0]];
    const dir = repoWith(`creation_rules:
  - path_regex: ^prod/.*\\.yaml$
    age: ${a.recipient}
    encrypted_regex: ^(password|token)$
  - path_regex: \\.env$
    age: [${b.recipient}]
    unencrypted_suffix: _PUBLIC
  - age: ${c.recipient}
`);
    writeFileSync(join(dir, 'prod', 'app.yaml'), 'user: admin\npassword: p1\n');
    writeFileSync(join(dir, 'dev', '.env'), 'TOKEN=t1\nURL_PUBLIC=https://x\n');
    writeFileSync(join(dir, 'dev', 'other.json'), '{"k": "v"}\n');
    for (const f of ['prod/app.yaml', 'dev/.env', 'dev/other.json']) {
      const r = sb.run(['encrypt', '-i', f], { cwd: dir, env: { SOPS_AGE_KEY_FILE: '' } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const app = readFileSync(join(dir, 'prod', 'app.yaml'), 'utf8');
    expect(app).toContain('user: admin');
    expect(app).not.toMatch(/password: p1/);
    expect(app).toContain(a.recipient);
    expect(app).toContain('encrypted_regex: ^(password|token)$');
    const env = readFileSync(join(dir, 'dev', '.env'), 'utf8');
    expect(env).toContain('URL_PUBLIC=https://x');
    expect(env).toContain(b.recipient);
    expect(readFileSync(join(dir, 'dev', 'other.json'), 'utf8')).toContain(c.recipient);
    expect(sb.run(['decrypt', 'prod/app.yaml'], { cwd: dir, env: withKey(a.identity) }).stdout).toBe('user: admin\npassword: p1\n');
    expect(sb.run(['decrypt', 'prod/app.yaml'], { cwd: dir, env: withKey(b.identity) }).status).toBe(128);
  });

  it('sops config files are found too, and an unknown rule field is a warning naming the file and line', () => {
    const dir = repoWith('');
    writeFileSync(join(dir, '.sopsrc'), '');
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, '.sops.yaml'), `creation_rules:\n  - path_regx: x\n    age: ${keys[0]!.recipient}\n`);
    writeFileSync(join(bad, 's.yaml'), 'a: 1\n');
    const r = sb.run(['encrypt', 's.yaml'], { cwd: bad });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^tsops: warning: .*\.sops\.yaml:2: unknown field 'path_regx' in creation_rules\[0\] \(did you mean 'path_regex'\?\); ignored, as sops does, so this rule applies to every file\n$/);
    expect(r.stdout).toContain(keys[0]!.recipient);
  });

  it('no matching rule and no key flags: a clear error naming the file and the config', () => {
    const dir = repoWith(`creation_rules:\n  - path_regex: ^prod/\n    age: ${keys[0]!.recipient}\n`);
    writeFileSync(join(dir, 'dev', 'x.yaml'), 'a: 1\n');
    const r = sb.run(['encrypt', 'dev/x.yaml'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dev\/x\.yaml/);
    expect(r.stderr).toMatch(/\.sopsrc/);
  });
});

describe('key groups with Shamir', () => {
  it('a 2-of-3 file decrypts with any two groups and names the missing groups with one', () => {
    const [a, b, c] = keys as [typeof keys[0], typeof keys[0], typeof keys[0]];
    const dir = repoWith(`creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [${a.recipient}]\n      - age: [${b.recipient}]\n      - age: [${c.recipient}]\n`);
    writeFileSync(join(dir, 's.yaml'), 'secret: shared\n');
    expect(sb.run(['encrypt', '-i', 's.yaml'], { cwd: dir }).status).toBe(0);
    const text = readFileSync(join(dir, 's.yaml'), 'utf8');
    expect(text).toContain('key_groups:');
    expect(text).toContain('shamir_threshold: 2');
    for (const pair of [[a, b], [a, c], [b, c]]) {
      const r = sb.run(['decrypt', 's.yaml'], { cwd: dir, env: withKey(...pair.map((k) => k!.identity)) });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('secret: shared\n');
    }
    const one = sb.run(['decrypt', 's.yaml'], { cwd: dir, env: withKey(b.identity) });
    expect(one.status).toBe(128);
    expect(one.stderr).toMatch(/1 of 2 required key groups decrypted; missing groups 1, 3 of 3/);
  });
});

describe('filestatus', () => {
  it('prints sops\'s one-file form and a JSON array for several', () => {
    const dir = repoWith(`creation_rules:\n  - age: ${keys[0]!.recipient}\n`);
    writeFileSync(join(dir, 'p.yaml'), 'a: 1\n');
    writeFileSync(join(dir, 'e.yaml'), 'a: 1\n');
    sb.run(['encrypt', '-i', 'e.yaml'], { cwd: dir });
    expect(sb.run(['filestatus', 'e.yaml'], { cwd: dir }).stdout).toBe('{"encrypted":true}\n');
    expect(sb.run(['filestatus', 'p.yaml'], { cwd: dir }).stdout).toBe('{"encrypted":false}\n');
    expect(JSON.parse(sb.run(['filestatus', 'e.yaml', 'p.yaml'], { cwd: dir }).stdout)).toEqual([
      { file: 'e.yaml', encrypted: true },
      { file: 'p.yaml', encrypted: false },
    ]);
  });
});

describe('stores', () => {
  it('the config\'s store indents shape new output; --indent wins', () => {
    const dir = repoWith(`stores:\n  json: {indent: 2}\n  json_binary: {indent: 3}\ncreation_rules:\n  - age: ${keys[0]!.recipient}\n`);
    writeFileSync(join(dir, 's.yaml'), 'a:\n  b: 1\n');
    writeFileSync(join(dir, 'blob.bin'), 'raw bytes');
    const json = sb.run(['encrypt', '--output-type', 'json', 's.yaml'], { cwd: dir });
    expect(json.status).toBe(0);
    expect(json.stdout).toMatch(/^\{\n {2}"a": \{\n {4}"b": "ENC\[/);
    expect(sb.run(['encrypt', 'blob.bin'], { cwd: dir }).stdout).toMatch(/^\{\n {3}"data": "ENC\[/);
    expect(sb.run(['encrypt', '--indent', '4', '--output-type', 'json', 's.yaml'], { cwd: dir }).stdout).toMatch(/^\{\n {4}"a"/);
  });
});
