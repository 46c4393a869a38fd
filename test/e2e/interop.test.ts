/**
 * Every file sops wrote in ../shared/interop decrypts with tsops, MAC verified,
 * to the plaintext sops would print.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TSOPS } from '../support/cli.js';
import { HAS_INTEROP, INTEROP } from '../support/interop.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0;
let gnupgHome: string;
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'tsops-interop-'));
  gnupgHome = mkdtempSync(join(tmpdir(), 'tsops-gnupg-'));
  if (hasGpg && HAS_INTEROP) execFileSync('gpg', ['--batch', '--import', join(INTEROP, 'sops-repo', 'sops_functional_tests_key.asc')], { env: { ...process.env, GNUPGHOME: gnupgHome }, stdio: 'ignore' });
});
afterAll(() => {
  if (hasGpg) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
  rmSync(gnupgHome, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

function tsops(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [TSOPS, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GNUPGHOME: gnupgHome, ...env },
  });
}

describe.skipIf(!HAS_INTEROP)('age samples (sops 3.8.1)', () => {
  const dir = join(INTEROP, 'sops-age-repo');
  const env = { SOPS_AGE_KEY_FILE: join(dir, 'key.txt') };
  const expected = HAS_INTEROP ? JSON.parse(readFileSync(join(dir, 'secret.json'), 'utf8')) : {};

  it('secret.enc.json decrypts to secret.json', () => {
    const r = tsops(['decrypt', join(dir, 'secret.enc.json')], env);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('secret.enc.yaml decrypts to the same data without 0word', () => {
    const r = tsops(['decrypt', '--output-type', 'json', join(dir, 'secret.enc.yaml')], env);
    expect(r.stderr).toBe('');
    const { ['0word']: _dropped, ...rest } = expected;
    expect(JSON.parse(r.stdout)).toEqual(rest);
  });

  it('secret.enc.env decrypts to its two variables', () => {
    const r = tsops(['decrypt', join(dir, 'secret.enc.env')], env);
    expect(r.stdout).toBe('secret=this is a secret\nanother_secret=7\n');
  });

  it('the identity also works through SOPS_AGE_KEY and the default keys file', () => {
    const identity = readFileSync(join(dir, 'key.txt'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    expect(tsops(['decrypt', join(dir, 'secret.enc.env')], { SOPS_AGE_KEY: `  ${identity}  ` }).status).toBe(0);
    const noKey = tsops(['decrypt', join(dir, 'secret.enc.env')]);
    expect(noKey.status).toBe(128);
    expect(noKey.stderr).toMatch(/^tsops: .*secret\.enc\.env: could not decrypt the data key.*age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr/);
    expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe.skipIf(!hasGpg || !HAS_INTEROP)('PGP samples (sops 3.x)', () => {
  const dir = join(INTEROP, 'sops-repo');
  it.each([
    ['format.enc.yaml', 'foo: bar\n'],
    ['format.enc.json', '{\n\t"foo": "bar"\n}\n'],
    // sops prints `foo = bar`, which dotenv reads as "bar": tsops quotes the value's leading space so it survives.
    ['format.enc.env', "foo =' bar'\n"],
    ['format.enc.ini', '[foo]\nbar = baz\n'],
    ['format-2.enc.ini', '[foo]\nbar = baz\n'],
    ['multiple_keys.yaml', 'message: hello\n'],
  ])('%s decrypts to exactly what sops prints', (file, text) => {
    const r = tsops(['decrypt', join(dir, file)]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(text);
  });

  it('comments.enc.yaml decrypts to comments.yaml, encrypted comments included', () => {
    const r = tsops(['decrypt', join(dir, 'comments.enc.yaml')]);
    expect(r.stdout).toBe(readFileSync(join(dir, 'comments.yaml'), 'utf8').trimEnd() + '\n');
  });

  it('comments_unencrypted_comments.yaml decrypts with its plaintext comments', () => {
    const r = tsops(['decrypt', join(dir, 'comments_unencrypted_comments.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('# this-is-a-comment');
  });

  it('example.yaml: nested maps, lists, encrypted comments, _unencrypted subtrees', () => {
    const r = tsops(['decrypt', '--output-type', 'json', join(dir, 'example.yaml')]);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout);
    expect(data.app2.db).toEqual({ user: 'eve', password: 'c4r1b0u' });
    expect(data.myapp1).toBe('t00m4nys3cr3tzupdated');
    const yaml = tsops(['decrypt', join(dir, 'example.yaml')]).stdout;
    expect(yaml).toContain('# private key for secret operations in app2');
  });

  it('example.json (3.5.0 metadata layout) and example.ini decrypt with their MACs', () => {
    const json = tsops(['decrypt', join(dir, 'example.json')]);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ firstName: 'John', lastName: 'Smith', address: { city: 'New York' } });
    const ini = tsops(['decrypt', join(dir, 'example.ini')]);
    expect(ini.stderr).toBe('');
    expect(ini.stdout).toContain('; An example file for use with sops!\n[name]\nfirstName = John');
  });

  it('example.txt (binary store) decrypts to the raw bytes', () => {
    const r = tsops(['decrypt', join(dir, 'example.txt')]);
    expect(r.stdout.startsWith('Welcome to SOPS!\n')).toBe(true);
  });

  it('no_mac.yaml is refused with exit 51 unless --ignore-mac', () => {
    const refused = tsops(['decrypt', join(dir, 'no_mac.yaml')]);
    expect(refused.status).toBe(51);
    expect(refused.stderr).toMatch(/^tsops: .*no_mac\.yaml: MAC mismatch: the file has no MAC\n$/);
    const allowed = tsops(['decrypt', '--ignore-mac', join(dir, 'no_mac.yaml')]);
    expect(allowed.status).toBe(0);
  });

  it('--decryption-order and a wrong GNUPGHOME give clear errors', () => {
    const dup = tsops(['decrypt', '--decryption-order', 'age,age', join(dir, 'format.enc.yaml')]);
    expect(dup.status).toBe(112);
    const empty = mkdtempSync(join(tmpdir(), 'tsops-empty-gnupg-'));
    const r = tsops(['decrypt', join(dir, 'format.enc.yaml')], { GNUPGHOME: empty });
    rmSync(empty, { recursive: true, force: true });
    expect(r.status).toBe(128);
    expect(r.stderr).toMatch(/FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4: gpg: .*(No secret key|decryption failed)/);
  });
});
