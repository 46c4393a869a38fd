/**
 * The library API on files encrypted in the test with a throwaway age key:
 * plain values, Secret-wrapped values, the environment, and typed errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptData,
  decryptFile,
  encryptData,
  EnvironmentError,
  exitCodeOf,
  loadEnv,
  loadSecrets,
  MacMismatchError,
  MetadataNotFoundError,
  NoKeyError,
  Secret,
  TsopsError,
  DecryptionError,
} from '../../src/index.js';
import { encryptText, throwawayAgeKey, withoutBinding } from '../support/pipeline.js';

const SECRET = 'hunter2-SECRET';
const YAML = `# top comment
db:
    user: admin
    password: ${SECRET}
    port: 5432
    big: 9007199254740993
    ratio: 1.5
    enabled: true
list:
    - one
    - 2
when: 2024-01-02T03:04:05Z
nothing: null
public_unencrypted: visible
`;

let dir: string;
let key: { identity: string; recipient: string };
let keyEnv: NodeJS.ProcessEnv;
const path = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsops-lib-'));
  key = await throwawayAgeKey();
  writeFileSync(path('keys.txt'), `${key.identity}\n`, { mode: 0o600 });
  keyEnv = { SOPS_AGE_KEY_FILE: path('keys.txt') };
  writeFileSync(path('config.enc.yaml'), await encryptText('yaml', YAML, key.recipient));
  writeFileSync(path('base.enc.env'), await encryptText('dotenv', `A=base\nB=base\n# c\nPASSWORD=${SECRET}\n`, key.recipient));
  writeFileSync(path('prod.enc.env'), await encryptText('dotenv', 'B=prod\nC=prod\n', key.recipient));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXPECTED = {
  db: { user: 'admin', password: SECRET, port: 5432, big: 9007199254740993n, ratio: 1.5, enabled: true },
  list: ['one', 2],
  when: '2024-01-02T03:04:05Z',
  nothing: null,
  public_unencrypted: 'visible',
};



describe('decryptFile', () => {
  it('gives the first document as plain values, keys found through the environment', async () => {
    expect(await decryptFile(path('config.enc.yaml'), { env: keyEnv })).toEqual(EXPECTED);
  });

  it('takes identities directly', async () => {
    expect(await decryptFile(path('config.enc.yaml'), { env: {}, ageIdentities: [key.identity] })).toEqual(EXPECTED);
  });

  it('decrypts a binary file to { data }', async () => {
    writeFileSync(path('blob.enc'), await encryptText('binary', 'raw \x01 bytes', key.recipient));
    expect(await decryptFile(path('blob.enc'), { env: keyEnv })).toEqual({ data: 'raw \x01 bytes' });
  });

  it('throws NoKeyError listing the key tried when no identity matches', async () => {
    const other = await throwawayAgeKey();
    const error = await decryptFile(path('config.enc.yaml'), { env: {}, ageIdentities: [other.identity] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoKeyError);
    expect((error as NoKeyError).kind).toBe('no-key');
    expect(exitCodeOf((error as NoKeyError).kind)).toBe(128);
    expect((error as NoKeyError).failures.map((f) => f.key)).toEqual([key.recipient]);
    expect(String((error as Error).message)).not.toContain(SECRET);
  });

  it('throws NoKeyError when the environment names no identity at all', async () => {
    await expect(decryptFile(path('config.enc.yaml'), { env: { HOME: dir } })).rejects.toBeInstanceOf(NoKeyError);
  });

  it('throws MacMismatchError for a tampered file, and ignoreMac recovers it', async () => {
    const lines = readFileSync(path('base.enc.env'), 'utf8').split('\n');
    writeFileSync(path('tampered.enc.env'), lines.filter((l) => !l.startsWith('A=')).join('\n'));
    const error = await decryptFile(path('tampered.enc.env'), { env: keyEnv }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MacMismatchError);
    expect((error as MacMismatchError).kind).toBe('mac-mismatch');
    expect(exitCodeOf((error as MacMismatchError).kind)).toBe(51);
    expect((error as MacMismatchError).file).toBe(path('tampered.enc.env'));
    expect(await decryptFile(path('tampered.enc.env'), { env: keyEnv, ignoreMac: true })).toEqual({ B: 'base', PASSWORD: SECRET });
  });

  it('throws DecryptionError for a value moved to another key', async () => {
    const text = readFileSync(path('prod.enc.env'), 'utf8');
    const b = /^B=(.*)$/m.exec(text)![1]!;
    const c = /^C=(.*)$/m.exec(text)![1]!;
    writeFileSync(path('swapped.enc.env'), text.replace(`B=${b}`, `B=${c}`).replace(`C=${c}`, `C=${b}`));
    await expect(decryptFile(path('swapped.enc.env'), { env: keyEnv })).rejects.toBeInstanceOf(DecryptionError);
  });

  it('throws MetadataNotFoundError for a plaintext file and exit 100 for a missing one', async () => {
    writeFileSync(path('plain.yaml'), 'a: 1\n');
    await expect(decryptFile(path('plain.yaml'), { env: keyEnv })).rejects.toBeInstanceOf(MetadataNotFoundError);
    await expect(decryptFile(path('missing.yaml'), { env: keyEnv })).rejects.toMatchObject({ kind: 'file-not-found' });
  });
});

describe('decryptData', () => {
  it('decrypts text or bytes in the given format', async () => {
    const json = await encryptText('json', `{"token": "${SECRET}", "n": [1, 2.5]}`, key.recipient);
    expect(await decryptData(json, { format: 'json', env: keyEnv })).toEqual({ token: SECRET, n: [1, 2.5] });
    expect(await decryptData(Buffer.from(json), { format: 'json', env: keyEnv })).toEqual({ token: SECRET, n: [1, 2.5] });
  });

  it('refuses data in the wrong format with a typed error', async () => {
    const json = await encryptText('json', '{"a": "b"}', key.recipient);
    await expect(decryptData(json, { format: 'dotenv', env: keyEnv })).rejects.toBeInstanceOf(TsopsError);
  });
});

describe('encryptData', () => {
  it('round-trips through decryptData and leaves no plaintext', async () => {
    const encrypted = await encryptData(`token: ${SECRET}\nport: 80\n`, { format: 'yaml', age: [key.recipient] });
    expect(encrypted).not.toContain(SECRET);
    expect(encrypted).toContain(key.recipient);
    expect(await decryptData(encrypted, { format: 'yaml', env: {}, ageIdentities: [key.identity] })).toEqual({ token: SECRET, port: 80 });
  });

  it('needs a key', async () => {
    await expect(encryptData('a: 1\n', { format: 'yaml' })).rejects.toThrow(/at least one key/);
  });
});

describe('loadSecrets', () => {
  it('wraps every leaf in a Secret that logs as [redacted]', async () => {
    const secrets = await loadSecrets(path('config.enc.yaml'), { env: keyEnv });
    const db = secrets['db'] as Record<string, Secret<unknown>>;
    expect(db['password']).toBeInstanceOf(Secret);
    expect(db['password']!.reveal()).toBe(SECRET);
    expect(db['port']!.reveal()).toBe(5432);
    expect(secrets['nothing']).toBeNull();
    expect((secrets['list'] as Secret<unknown>[]).map((s) => s.reveal())).toEqual(['one', 2]);
    expect(inspect(secrets, { depth: Infinity })).not.toContain(SECRET);
    expect(JSON.stringify(secrets)).not.toContain(SECRET);
  });
});

describe('loadEnv', () => {
  it('sets the variables in the target (secrets win) and returns them as Secrets; later files win', async () => {
    const target: NodeJS.ProcessEnv = { A: 'existing', KEEP: 'me' };
    const secrets = await loadEnv([path('base.enc.env'), path('prod.enc.env')], { env: target, keyEnv });
    expect(target).toEqual({ A: 'base', B: 'prod', C: 'prod', PASSWORD: SECRET, KEEP: 'me' });
    expect(Object.keys(secrets).sort()).toEqual(['A', 'B', 'C', 'PASSWORD']);
    expect(secrets['PASSWORD']!.reveal()).toBe(SECRET);
    expect(String(secrets['PASSWORD'])).toBe('[redacted]');
    expect(JSON.stringify(secrets)).not.toContain(SECRET);
  });

  it('override: false keeps variables already set, still returning every secret', async () => {
    const target: NodeJS.ProcessEnv = { A: 'existing' };
    const secrets = await loadEnv(path('base.enc.env'), { env: target, keyEnv, override: false });
    expect(target['A']).toBe('existing');
    expect(target['B']).toBe('base');
    expect(secrets['A']!.reveal()).toBe('base');
  });

  it('sets process.env by default', async () => {
    delete process.env['C'];
    try {
      await loadEnv(path('prod.enc.env'), { keyEnv });
      expect(process.env['C']).toBe('prod');
    } finally {
      delete process.env['B'];
      delete process.env['C'];
    }
  });

  it('refuses nested values naming the key, and flattens them when asked', async () => {
    const target: NodeJS.ProcessEnv = {};
    const error = await loadEnv(path('config.enc.yaml'), { env: target, keyEnv }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/key "db" holds a map/);
    expect(target).toEqual({});
    await loadEnv(path('config.enc.yaml'), { env: target, keyEnv, flatten: true });
    expect(target).toMatchObject({ db_password: SECRET, db_port: '5432', db_ratio: '1.5', db_enabled: 'true', list_0: 'one', list_1: '2', nothing: '' });
  });

  it('an empty value (never in the MAC) may add a variable but not replace one already set; allowEmptyOverride opts in', async () => {
    // Appended by someone without the key to a file as sops writes it (no structure binding): the MAC still verifies.
    writeFileSync(path('path.enc.env'), `${withoutBinding(readFileSync(path('base.enc.env'), 'utf8'))}PATH=\nNEW_EMPTY=\n`);
    const target: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
    const error = await loadEnv(path('path.enc.env'), { env: target, keyEnv }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/key "PATH" has an empty value, which the MAC does not cover/);
    expect((error as Error).message).not.toContain(SECRET);
    expect(target).toEqual({ PATH: '/usr/bin' });
    await loadEnv(path('path.enc.env'), { env: target, keyEnv, override: false });
    expect(target).toMatchObject({ PATH: '/usr/bin', NEW_EMPTY: '', PASSWORD: SECRET });
    const allowed: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
    await loadEnv(path('path.enc.env'), { env: allowed, keyEnv, allowEmptyOverride: true });
    expect(allowed['PATH']).toBe('');
  });

  it('plaintext values of a mac_only_encrypted file are refused unless allowUnauthenticated', async () => {
    const text = await encryptText('dotenv', `PASSWORD=${SECRET}\n`, key.recipient, { macOnlyEncrypted: true, rule: { kind: 'encrypted_regex', value: '^PASSWORD$' } });
    writeFileSync(path('maconly.enc.env'), `${withoutBinding(text)}NODE_OPTIONS=--require=./evil.js\n`);
    const target: NodeJS.ProcessEnv = {};
    const error = await loadEnv(path('maconly.enc.env'), { env: target, keyEnv }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/key "NODE_OPTIONS" is plaintext in a mac_only_encrypted file/);
    expect(target).toEqual({});
    await loadEnv(path('maconly.enc.env'), { env: target, keyEnv, allowUnauthenticated: true });
    expect(target).toEqual({ PASSWORD: SECRET, NODE_OPTIONS: '--require=./evil.js' });
  });

  it('sets nothing when one of the files fails', async () => {
    const target: NodeJS.ProcessEnv = {};
    await expect(loadEnv([path('base.enc.env'), path('missing.env')], { env: target, keyEnv })).rejects.toMatchObject({ kind: 'file-not-found' });
    expect(target).toEqual({});
  });
});
