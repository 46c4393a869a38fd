import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPgpKeyKind, summarize } from '../../src/keys/pgp/kind.js';
import type { KeyRecord } from '../../src/keys/masterkey.js';
import { TsopsError } from '../../src/errors.js';
import { INTEROP, tempDir } from './helpers.js';
import { HAS_INTEROP } from '../support/interop.js';

const FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';

function gpgAvailable(): boolean {
  try {
    execFileSync('gpg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const haveGpg = gpgAvailable();
if (!haveGpg) console.warn('skipping the PGP tests that need gpg: gpg is not on PATH');

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TsopsError);
  const message = (e as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

/** The first `pgp` entry of a sops YAML file, read with plain string handling. */
function pgpRecord(path: string): KeyRecord {
  const text = readFileSync(path, 'utf8');
  const m = /- created_at: "([^"]+)"\n(\s+)enc: \|-\n((?:.*\n)+?)\s+-----END PGP MESSAGE-----\n\s+fp: (\S+)/.exec(text);
  if (!m) throw new Error('no pgp entry found');
  const body = `${m[3]}-----END PGP MESSAGE-----`
    .split('\n')
    .map((l) => l.trim())
    .join('\n');
  return { type: 'pgp', fields: { created_at: m[1]!, enc: body, fp: m[4]! } };
}

describe.skipIf(!haveGpg || !HAS_INTEROP)('PGP through gpg, with the sops test key', () => {
  let dir: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = tempDir('tsops-gpg-');
    const home = join(dir.root, 'gnupg');
    execFileSync('mkdir', ['-m', '700', home]);
    chmodSync(home, 0o700);
    env = { PATH: process.env['PATH'], HOME: dir.root, GNUPGHOME: home };
    execFileSync('gpg', ['--batch', '--import', join(INTEROP, 'sops-repo/sops_functional_tests_key.asc')], { env, stdio: 'ignore' });
  });

  afterAll(() => {
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
    } catch {
      // No agent was started, or gpgconf is missing: nothing to stop.
    }
    dir.cleanup();
  });

  it('unwraps the data key sops wrote', async () => {
    const record = pgpRecord(join(INTEROP, 'sops-repo/format.enc.yaml'));
    expect(record.fields['fp']).toBe(FP);
    const key = await createPgpKeyKind({ env }).unwrap(record);
    expect(key).toHaveLength(32);
  });

  it('wraps as sops does and unwraps its own output', async () => {
    const kind = createPgpKeyKind({ env });
    const secret = Uint8Array.from({ length: 33 }, (_, i) => (i * 91) & 0xff);
    const before = Math.floor(Date.now() / 1000);
    const record = await kind.wrap({ type: 'pgp', fingerprint: 'FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4' }, secret);
    expect(Object.keys(record.fields).sort()).toEqual(['created_at', 'enc', 'fp']);
    expect(record.fields['fp']).toBe(FP);
    const createdAt = record.fields['created_at'] as string;
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(createdAt) / 1000).toBeGreaterThanOrEqual(before);
    const enc = record.fields['enc'] as string;
    expect(enc.startsWith('-----BEGIN PGP MESSAGE-----\n\n')).toBe(true);
    expect(enc.endsWith('-----END PGP MESSAGE-----')).toBe(true);
    expect(new Uint8Array(await kind.unwrap(record))).toEqual(secret);
  });

  it('names the problem when the fingerprint is unknown', async () => {
    const kind = createPgpKeyKind({ env });
    const message = await reasonOf(kind.wrap({ type: 'pgp', fingerprint: '0000000000000000000000000000000000000001' }, new Uint8Array(32)));
    expect(message).toMatch(/^gpg could not encrypt: .*(No public key|skipped|not found|failed)/i);
  });

  it('names the problem when no secret key fits', async () => {
    const emptyHome = join(dir.root, 'empty');
    execFileSync('mkdir', ['-m', '700', emptyHome]);
    const kind = createPgpKeyKind({ env: { ...env, GNUPGHOME: emptyHome } });
    const message = await reasonOf(kind.unwrap(pgpRecord(join(INTEROP, 'sops-repo/format.enc.yaml'))));
    expect(message).toMatch(/No secret key|decryption failed/i);
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...env, GNUPGHOME: emptyHome }, stdio: 'ignore' });
    } catch {
      // Nothing to stop.
    }
  });

  it('refuses an enc that is not an armored PGP message', async () => {
    const kind = createPgpKeyKind({ env });
    expect(await reasonOf(kind.unwrap({ type: 'pgp', fields: { fp: FP, enc: 'hello' } }))).toBe('malformed PGP enc');
    expect(await reasonOf(kind.unwrap({ type: 'pgp', fields: { fp: FP } }))).toBe('malformed PGP enc');
    const garbled = '-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----';
    expect(await reasonOf(kind.unwrap({ type: 'pgp', fields: { fp: FP, enc: garbled } }))).toMatch(/^gpg/);
  });
});

describe('PGP without gpg', () => {
  it('says gpg is missing when SOPS_GPG_EXEC names nothing', async () => {
    const kind = createPgpKeyKind({ env: { PATH: process.env['PATH'], SOPS_GPG_EXEC: '/nonexistent/gpg' } });
    expect(await reasonOf(kind.wrap({ type: 'pgp', fingerprint: FP }, new Uint8Array(32)))).toBe('gpg not found (install GnuPG or set SOPS_GPG_EXEC)');
    const record = { type: 'pgp' as const, fields: { fp: FP, enc: '-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----' } };
    expect(await reasonOf(kind.unwrap(record))).toBe('gpg not found (install GnuPG or set SOPS_GPG_EXEC)');
  });

  it('says gpg is missing when it is not on PATH', async () => {
    const kind = createPgpKeyKind({ env: { PATH: '/nonexistent' } });
    expect(await reasonOf(kind.wrap({ type: 'pgp', fingerprint: FP }, new Uint8Array(32)))).toBe('gpg not found (install GnuPG or set SOPS_GPG_EXEC)');
  });

  describe('with a stand-in for gpg', () => {
    let dir: ReturnType<typeof tempDir>;
    beforeAll(() => {
      dir = tempDir('tsops-fakegpg-');
    });
    afterAll(() => dir.cleanup());

    function fakeGpg(script: string): NodeJS.ProcessEnv {
      const path = join(dir.root, `gpg-${Math.random().toString(36).slice(2)}`);
      writeFileSync(path, `#!${process.execPath}\n${script}\n`, { mode: 0o755 });
      return { PATH: process.env['PATH'], SOPS_GPG_EXEC: path };
    }
    const armored = '-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----';

    it('passes sops arguments and the secret on stdin, and trims the armor', async () => {
      const log = join(dir.root, 'args.json');
      const env = fakeGpg(
        `const chunks = []; process.stdin.on('data', (c) => chunks.push(c)); process.stdin.on('end', () => {` +
          `require('fs').writeFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), input: Buffer.concat(chunks).toString('hex') }));` +
          `process.stdout.write('\\n  ${armored.replace(/\n/g, '\\n')}\\n\\n'); });`,
      );
      const record = await createPgpKeyKind({ env }).wrap({ type: 'pgp', fingerprint: 'ab cd 0123456789ABCDEF' }, Uint8Array.of(0, 1, 255));
      const seen = JSON.parse(readFileSync(log, 'utf8')) as { args: string[]; input: string };
      expect(seen.args).toEqual(['--batch', '--no-default-recipient', '--yes', '--encrypt', '-a', '-r', 'abcd0123456789ABCDEF', '--trusted-key', '0123456789ABCDEF', '--no-encrypt-to']);
      expect(seen.input).toBe('0001ff');
      expect(record.fields['enc']).toBe(armored);
      expect(record.fields['fp']).toBe('abcd0123456789ABCDEF');
    });

    it('treats empty decrypted output as a failure', async () => {
      const env = fakeGpg(`process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`);
      expect(await reasonOf(createPgpKeyKind({ env }).unwrap({ type: 'pgp', fields: { enc: armored } }))).toBe('gpg returned an empty data key');
    });

    it('returns stdout bytes as they are', async () => {
      const env = fakeGpg(`process.stdin.resume(); process.stdin.on('end', () => process.stdout.write(Buffer.from([0, 10, 13, 255, 32])));`);
      expect(new Uint8Array(await createPgpKeyKind({ env }).unwrap({ type: 'pgp', fields: { enc: armored } }))).toEqual(Uint8Array.of(0, 10, 13, 255, 32));
    });

    it('summarizes stderr in one line and falls back to the exit status', async () => {
      const noisy = fakeGpg(`process.stderr.write('gpg: encrypted with RSA key, ID 1234\\n      "Some One <x@y>"\\ngpg: decryption failed: No secret key\\n'); process.exit(2);`);
      expect(await reasonOf(createPgpKeyKind({ env: noisy }).unwrap({ type: 'pgp', fields: { enc: armored } }))).toBe('gpg: decryption failed: No secret key');
      const silent = fakeGpg('process.exit(5);');
      expect(await reasonOf(createPgpKeyKind({ env: silent }).unwrap({ type: 'pgp', fields: { enc: armored } }))).toBe('gpg exited with status 5');
      expect(await reasonOf(createPgpKeyKind({ env: silent }).wrap({ type: 'pgp', fingerprint: FP }, new Uint8Array(32)))).toBe('gpg could not encrypt: gpg exited with status 5');
    });
  });

  it('picks the telling stderr line', () => {
    expect(summarize('gpg: using key X\ngpg: public key decryption failed: Bad passphrase\ngpg: decryption failed: No secret key\n')).toBe('gpg: public key decryption failed: Bad passphrase');
    expect(summarize('gpg: something odd\r\n')).toBe('gpg: something odd');
    expect(summarize('\n\n')).toBe('');
    expect(summarize(`gpg: ${'x'.repeat(500)}`)).toHaveLength(200);
  });
});
