import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter, armor as libArmor, identityToRecipient } from 'age-encryption';
import { appendAgeKey, defaultAgeKeysFile, generateAgeKey } from '../../src/keys/age/keygen.js';
import { createAgeKeyKind } from '../../src/keys/age/kind.js';
import { isolatedEnv, tempDir } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('generateAgeKey', () => {
  it('makes a fresh X25519 pair whose recipient the age library agrees with', async () => {
    const a = await generateAgeKey();
    const b = await generateAgeKey();
    expect(a.identity).toMatch(/^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
    expect(a.recipient).toMatch(/^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
    expect(await identityToRecipient(a.identity)).toBe(a.recipient);
    expect(a.identity).not.toBe(b.identity);
  });

  it('gives an identity that decrypts what its recipient encrypts, and nothing else', async () => {
    const key = await generateAgeKey();
    const encrypter = new Encrypter();
    encrypter.addRecipient(key.recipient);
    const file = await encrypter.encrypt(Uint8Array.of(1, 2, 3));
    const decrypter = new Decrypter();
    decrypter.addIdentity(key.identity);
    expect(await decrypter.decrypt(file, 'uint8array')).toEqual(Uint8Array.of(1, 2, 3));
    const stranger = new Decrypter();
    stranger.addIdentity((await generateAgeKey()).identity);
    await expect(stranger.decrypt(file, 'uint8array')).rejects.toThrow();
  });
});

describe('appendAgeKey', () => {
  it('creates the file 0600 in new 0700 directories, in age-keygen layout', async () => {
    const path = join(dir.root, 'config/sops/age/keys.txt');
    const key = await generateAgeKey();
    await appendAgeKey(path, key, new Date('2026-03-04T05:06:07.890Z'));
    expect(readFileSync(path, 'utf8')).toBe(`# created: 2026-03-04T05:06:07Z\n# public key: ${key.recipient}\n${key.identity}\n`);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir.root, 'config/sops/age'))).toBe(0o700);
    expect(mode(join(dir.root, 'config/sops'))).toBe(0o700);
  });

  it('keeps existing keys, separates with a blank line, and fixes a loose mode', async () => {
    const path = join(dir.root, 'keys.txt');
    writeFileSync(path, '# an old key\nAGE-SECRET-KEY-1OLD');
    chmodSync(path, 0o644);
    const first = await generateAgeKey();
    const second = await generateAgeKey();
    await appendAgeKey(path, first, new Date('2026-01-01T00:00:00Z'));
    await appendAgeKey(path, second, new Date('2026-01-02T00:00:00Z'));
    expect(readFileSync(path, 'utf8')).toBe(
      '# an old key\nAGE-SECRET-KEY-1OLD\n\n' +
        `# created: 2026-01-01T00:00:00Z\n# public key: ${first.recipient}\n${first.identity}\n\n` +
        `# created: 2026-01-02T00:00:00Z\n# public key: ${second.recipient}\n${second.identity}\n`,
    );
    expect(mode(path)).toBe(0o600);
  });

  it('writes a default keys file that unwraps what its recipient wraps', async () => {
    const env = isolatedEnv(dir.root);
    const path = defaultAgeKeysFile(env);
    const key = await generateAgeKey();
    await appendAgeKey(path, key);
    await appendAgeKey(path, await generateAgeKey());
    const kind = createAgeKeyKind({ env });
    const record = await kind.wrap({ type: 'age', recipient: key.recipient }, new Uint8Array(32).fill(9));
    expect(new Uint8Array(await kind.unwrap(record))).toEqual(new Uint8Array(32).fill(9));
    expect(libArmor.decode(record.fields['enc'] as string).length).toBeGreaterThan(32);
  });

  it('fails, writing nothing, when the parent cannot be a directory', async () => {
    const blocker = join(dir.root, 'file');
    writeFileSync(blocker, 'x');
    await expect(appendAgeKey(join(blocker, 'keys.txt'), await generateAgeKey())).rejects.toMatchObject({ code: expect.stringMatching(/^E(NOTDIR|EXIST)$/) });
    expect(readFileSync(blocker, 'utf8')).toBe('x');
  });

  it('leaves an existing parent directory mode alone', async () => {
    const parent = join(dir.root, 'shared');
    mkdirSync(parent, { mode: 0o755 });
    chmodSync(parent, 0o755);
    await appendAgeKey(join(parent, 'keys.txt'), await generateAgeKey());
    expect(mode(parent)).toBe(0o755);
    expect(mode(join(parent, 'keys.txt'))).toBe(0o600);
  });
});
