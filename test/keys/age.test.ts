import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, armor as libArmor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { createAgeKeyKind } from '../../src/keys/age/kind.js';
import { generateAgeKey } from '../../src/keys/age/keygen.js';
import { open, parseSealed } from '../../src/sops/cipher.js';
import type { KeyRecord } from '../../src/keys/masterkey.js';
import { TsopsError } from '../../src/errors.js';
import { INTEROP, INTEROP_AGE_RECIPIENT, SPEC_IDENTITY, SPEC_RECIPIENT, ageEntries, isolatedEnv, tempDir } from './helpers.js';
import { HAS_INTEROP } from '../support/interop.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

const bytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const secret32 = (): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(TsopsError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/AGE-SECRET-KEY/i);
    return message;
  }
  throw new Error('expected a rejection');
}

describe('age wrap', () => {
  it('round-trips 32- and 33-byte secrets through a generated identity', async () => {
    const { identity, recipient } = await generateAgeKey();
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root), identities: { age: [identity] } });
    for (const secret of [secret32(), Uint8Array.from({ length: 33 }, (_, i) => 255 - i)]) {
      const record = await kind.wrap({ type: 'age', recipient }, secret);
      expect(bytes(await kind.unwrap(record))).toEqual(secret);
    }
  });

  it('round-trips any secret (property)', async () => {
    const { identity, recipient } = await generateAgeKey();
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root), identities: { age: [identity] } });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 100 }), async (secret) => {
        expect(new Uint8Array(await kind.unwrap(await kind.wrap({ type: 'age', recipient }, secret)))).toEqual(secret);
      }),
      { numRuns: 30 },
    );
  });

  it('writes the record sops writes: recipient trimmed, enc armored at 64 columns with a final newline', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root) });
    const record = await kind.wrap({ type: 'age', recipient: `  ${SPEC_RECIPIENT} ` }, secret32());
    expect(record.type).toBe('age');
    expect(Object.keys(record.fields).sort()).toEqual(['enc', 'recipient']);
    expect(record.fields['recipient']).toBe(SPEC_RECIPIENT);
    const enc = record.fields['enc'] as string;
    const lines = enc.split('\n');
    expect(lines[0]).toBe('-----BEGIN AGE ENCRYPTED FILE-----');
    expect(lines.at(-2)).toBe('-----END AGE ENCRYPTED FILE-----');
    expect(lines.at(-1)).toBe('');
    const body = lines.slice(1, -2);
    expect(body.length).toBeGreaterThan(2);
    for (const line of body.slice(0, -1)) expect(line).toMatch(/^[A-Za-z0-9+/]{64}$/);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
    const file = Buffer.from(body.join(''), 'base64').toString('latin1');
    expect(file.startsWith('age-encryption.org/v1\n-> X25519 ')).toBe(true);
    expect(file.match(/\n-> /g)).toHaveLength(1);
  });

  it('writes files the age library decrypts', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root) });
    const record = await kind.wrap({ type: 'age', recipient: SPEC_RECIPIENT }, secret32());
    const decrypter = new Decrypter();
    decrypter.addIdentity(SPEC_IDENTITY);
    expect(await decrypter.decrypt(libArmor.decode(record.fields['enc'] as string), 'uint8array')).toEqual(secret32());
  });

  it('round-trips post-quantum hybrid recipients through the library', async () => {
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    expect(recipient.startsWith('age1pq1')).toBe(true);
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY: identity }) });
    const record = await kind.wrap({ type: 'age', recipient }, secret32());
    const enc = record.fields['enc'] as string;
    expect(enc.endsWith('-----END AGE ENCRYPTED FILE-----\n')).toBe(true);
    for (const line of enc.split('\n').slice(1, -3)) expect(line).toHaveLength(64);
    expect(bytes(await kind.unwrap(record))).toEqual(secret32());
    const other = createAgeKeyKind({ env: isolatedEnv(dir.root), identities: { age: [(await generateAgeKey()).identity, await generateHybridIdentity()] } });
    expect(await reasonOf(other.unwrap(record))).toMatch(/^no age identity for recipient age1pq1\S+: tried 2 identities from the identities given$/);
  });

  it.each([
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN user@host', /^SSH age recipients are not supported yet: ssh-ed25519 key$/],
    ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ', /^SSH age recipients are not supported yet: ssh-rsa key$/],
    ['age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t', /^age plugin recipients are not supported yet: age1yubikey1/],
    ['age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvuq', /^invalid age recipient age1lzd99/],
    ['age1', /^invalid age recipient age1$/],
    ['age1pq1qqqqqqqqqqqq', /^invalid age recipient age1pq1qqqqqqqqqqqq$/],
    ['AGE1LZD99', /^invalid age recipient AGE1LZD99$/],
    ['', /^invalid age recipient $/],
    ['pgp:FBC7', /^invalid age recipient pgp:FBC7$/],
  ])('refuses recipient %j', async (recipient, message) => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root) });
    expect(await reasonOf(kind.wrap({ type: 'age', recipient }, secret32()))).toMatch(message);
  });

  it('refuses a spec of another type', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root) });
    expect(await reasonOf(kind.wrap({ type: 'pgp', fingerprint: 'AB' }, secret32()))).toBe('not an age key: pgp');
  });
});

describe('age unwrap', () => {
  const enc = (recipient: string): Promise<KeyRecord> => createAgeKeyKind({ env: {} }).wrap({ type: 'age', recipient }, secret32());

  it.skipIf(!HAS_INTEROP)('decrypts a data key sops wrote, with the identity from SOPS_AGE_KEY_FILE', async () => {
    const yamlPath = join(INTEROP, 'sops-age-repo/secret.enc.yaml');
    const entries = ageEntries(yamlPath);
    expect(entries).toHaveLength(3);
    const mine = entries.find((e) => e.recipient === INTEROP_AGE_RECIPIENT)!;
    const env = isolatedEnv(dir.root, { SOPS_AGE_KEY_FILE: join(INTEROP, 'sops-age-repo/key.txt') });
    const kind = createAgeKeyKind({ env });
    const dataKey = await kind.unwrap({ type: 'age', fields: mine });
    expect(dataKey).toHaveLength(32);
    // The key opens a value of the same file.
    const line = (await import('node:fs')).readFileSync(yamlPath, 'utf8').split('\n').find((l) => l.startsWith('secret: '))!;
    expect(open(dataKey, parseSealed(line.slice('secret: '.length))!, 'secret:').toString('utf8')).toBe('this is a secret');
    const others = entries.filter((e) => e.recipient !== INTEROP_AGE_RECIPIENT);
    for (const other of others) {
      expect(await reasonOf(kind.unwrap({ type: 'age', fields: other }))).toBe(`no age identity for recipient ${other.recipient}: tried 1 identity from SOPS_AGE_KEY_FILE`);
    }
  });

  it('uses the published example pair in both directions', async () => {
    expect(await identityToRecipient(SPEC_IDENTITY)).toBe(SPEC_RECIPIENT);
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY: SPEC_IDENTITY }) });
    expect(bytes(await kind.unwrap(await enc(SPEC_RECIPIENT)))).toEqual(secret32());
  });

  it('tries every gathered identity at once and names the sources it tried', async () => {
    const a = await generateAgeKey();
    const b = await generateAgeKey();
    const c = await generateAgeKey();
    const keyFile = join(dir.root, 'keys.txt');
    writeFileSync(keyFile, `# two keys\n${a.identity}\n${b.identity}\n`);
    const env = isolatedEnv(dir.root, { SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: SPEC_IDENTITY });
    const kind = createAgeKeyKind({ env });
    expect(bytes(await kind.unwrap(await enc(b.recipient)))).toEqual(secret32());
    expect(bytes(await kind.unwrap(await enc(SPEC_RECIPIENT)))).toEqual(secret32());
    expect(await reasonOf(kind.unwrap(await enc(c.recipient)))).toBe(`no age identity for recipient ${c.recipient}: tried 3 identities from SOPS_AGE_KEY, SOPS_AGE_KEY_FILE`);
  });

  it('says where to put identities when there are none', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root) });
    expect(await reasonOf(kind.unwrap(await enc(SPEC_RECIPIENT)))).toBe(
      `no age identities found (set SOPS_AGE_KEY_FILE or create ${join(dir.root, 'config/sops/age/keys.txt')})`,
    );
    const bare = createAgeKeyKind({ env: {} });
    expect(await reasonOf(bare.unwrap(await enc(SPEC_RECIPIENT)))).toBe('no age identities found (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)');
  });

  it('counts plugin identities as skipped, not tried', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY: 'AGE-PLUGIN-YUBIKEY-1QQQQQQ' }) });
    expect(await reasonOf(kind.unwrap(await enc(SPEC_RECIPIENT)))).toMatch(/^no age identities found \(.*\); skipped 1 plugin identity \(not supported\)$/);
  });

  it('reports a bad identity line by number without quoting it', async () => {
    const keyFile = join(dir.root, 'keys.txt');
    writeFileSync(keyFile, `# comment\n\n ${SPEC_IDENTITY}\n`);
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY_FILE: keyFile }) });
    const message = await reasonOf(kind.unwrap(await enc(SPEC_RECIPIENT)));
    expect(message).toBe(`unknown identity type in ${keyFile} line 3`);
    expect(message).not.toContain('G0Q5K9');
  });

  it('rejects an enc that is not an armored age file', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY: SPEC_IDENTITY }) });
    const record = await enc(SPEC_RECIPIENT);
    const armored = record.fields['enc'] as string;
    const binary = Buffer.from(armored.split('\n').slice(1, -2).join(''), 'base64').toString('latin1');
    const cases: [unknown, RegExp][] = [
      [binary, /^malformed age enc: not an armored age file$/],
      [armored.replace('BEGIN AGE', 'BEGIN PGP'), /^malformed age enc: not an armored age file$/],
      [armored.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n!!!\n'), /^malformed age enc: not an armored age file$/],
      ['', /^malformed age enc: missing$/],
      [undefined, /^malformed age enc: missing$/],
      [`-----BEGIN AGE ENCRYPTED FILE-----\n${Buffer.from('age-encryption.org/v2\n').toString('base64')}\n-----END AGE ENCRYPTED FILE-----\n`, /^malformed age enc: not an age v1 file$/],
    ];
    for (const [value, message] of cases) {
      const fields = { ...record.fields };
      if (value === undefined) delete fields['enc'];
      else fields['enc'] = value as string;
      expect(await reasonOf(kind.unwrap({ type: 'age', fields }))).toMatch(message);
    }
  });

  it('refuses a tampered payload', async () => {
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY: SPEC_IDENTITY }) });
    const record = await enc(SPEC_RECIPIENT);
    const file = libArmor.decode(record.fields['enc'] as string);
    file[file.length - 5] ^= 1;
    expect(await reasonOf(kind.unwrap({ type: 'age', fields: { ...record.fields, enc: libArmor.encode(file) } }))).toMatch(/^malformed age enc: /);
  });

  it('gathers identities once per kind, even with a key command', async () => {
    const counter = join(dir.root, 'count');
    const script = join(dir.root, 'keycmd.mjs');
    writeFileSync(script, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(counter)}, 'x');\nconsole.log(${JSON.stringify(SPEC_IDENTITY)});\n`);
    const kind = createAgeKeyKind({ env: isolatedEnv(dir.root, { SOPS_AGE_KEY_CMD: `'${process.execPath}' '${script}'` }) });
    const record = await enc(SPEC_RECIPIENT);
    await kind.unwrap(record);
    await kind.unwrap(record);
    expect((await import('node:fs')).readFileSync(counter, 'utf8')).toBe('x');
  });
});
