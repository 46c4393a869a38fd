/**
 * Tampering with an encrypted file is caught: every change to a value, a key,
 * the order of values, `lastmodified` or the MAC makes decryption fail with
 * sops's exit code for that failure (25 for a value, 51 for the MAC).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DecryptionError, MacMismatchError, TsopsError } from '../../src/errors.js';
import type { FormatName } from '../../src/tree.js';
import { decryptText, encryptText, throwawayAgeKey } from '../support/pipeline.js';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';

const samples: Record<Exclude<FormatName, 'binary'>, string> = {
  yaml: 'db:\n    user: admin\n    password: hunter2\n    port: 5432\nlist:\n    - one\n    - two\nnote_unencrypted: visible\n',
  json: '{\n  "db": {"user": "admin", "password": "hunter2", "port": 5432},\n  "list": ["one", "two"],\n  "note_unencrypted": "visible"\n}\n',
  dotenv: 'USER=admin\nPASSWORD=hunter2\nPORT=5432\nNOTE_unencrypted=visible\n',
  ini: '[db]\nuser = admin\npassword = hunter2\nport = 5432\n',
};

const ENC = /ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:([a-z]+)\]/g;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

let key: { identity: string; recipient: string };
beforeAll(async () => {
  key = await throwawayAgeKey();
});

async function failure(format: FormatName, text: string): Promise<TsopsError> {
  try {
    await decryptText(format, text, key.identity);
  } catch (e) {
    if (e instanceof TsopsError) return e;
    throw e;
  }
  throw new Error('tampered file decrypted without an error');
}

/** The ENC strings of values (not the MAC), with their offsets. */
function values(text: string): { start: number; text: string }[] {
  const isMac = (at: number): boolean => /mac["]?\s*[:=]\s*"?$/.test(text.slice(text.lastIndexOf('\n', at) + 1, at));
  return [...text.matchAll(ENC)].filter((m) => !isMac(m.index!)).map((m) => ({ start: m.index!, text: m[0] }));
}

function replaceAt(text: string, start: number, old: string, replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(start + old.length);
}

describe.each(Object.keys(samples) as Exclude<FormatName, 'binary'>[])('%s', (format) => {
  let enc: string;
  beforeAll(async () => {
    enc = await encryptText(format, samples[format], key.recipient);
  });

  it('decrypts untouched', async () => {
    await expect(decryptText(format, enc, key.identity)).resolves.toContain('hunter2');
  });

  it('any changed character in data, iv or tag of any value fails with exit 25', async () => {
    let cases = 0;
    for (const v of values(enc)) {
      const m = /data:([^,]*),iv:([^,]*),tag:([^,]*),/.exec(v.text)!;
      for (const field of [1, 2, 3]) {
        const segment = m[field]!;
        const offset = v.text.indexOf(segment, field === 1 ? 0 : v.text.indexOf(field === 2 ? 'iv:' : 'tag:'));
        for (const pos of [0, Math.floor(segment.replace(/=+$/, '').length / 2), segment.replace(/=+$/, '').length - 2]) {
          const c = segment[pos]!;
          const flipped = B64[(B64.indexOf(c) + 1) % 64]!;
          const tampered = replaceAt(enc, v.start + offset + pos, c, flipped);
          const e = await failure(format, tampered);
          expect(e).toBeInstanceOf(DecryptionError);
          expect(exitCodeOfError(e)).toBe(25);
          expect(e.message).not.toMatch(/hunter2|admin|\n/);
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThanOrEqual(18);
  });

  it('swapping two encrypted values fails', async () => {
    const [a, b] = values(enc).filter((v) => v.text.endsWith('type:str]'));
    const swapped = enc.slice(0, a!.start) + b!.text + enc.slice(a!.start + a!.text.length, b!.start) + a!.text + enc.slice(b!.start + b!.text.length);
    const e = await failure(format, swapped);
    expect([25, 51]).toContain(exitCodeOfError(e));
  });

  it('renaming a key fails with 25', async () => {
    const renamed = enc.replace(/password/i, (k) => k.replace(/[oO]/, '0'));
    expect(exitCodeOfError(await failure(format, renamed))).toBe(25);
  });

  it('deleting a value fails with 51', async () => {
    const lines = enc.split('\n');
    const i = lines.findIndex((l) => /port/i.test(l) && l.includes('ENC['));
    const text = format === 'json' ? enc.replace(/,\s*"port": "ENC\[[^"]*"/, '') : lines.filter((_, j) => j !== i).join('\n');
    const e = await failure(format, text);
    expect(e).toBeInstanceOf(MacMismatchError);
    expect(exitCodeOfError(e)).toBe(51);
  });

  it('changing lastmodified fails with 51', async () => {
    const text = enc.replace(/(lastmodified["]?\s*[:=]\s*"?)(\d{4})/, (_m, p: string, y: string) => `${p}${Number(y) - 1}`);
    expect(text).not.toBe(enc);
    expect(exitCodeOfError(await failure(format, text))).toBe(51);
  });

  it('changing or removing the MAC fails with 51, and --ignore-mac skips the check', async () => {
    const macMatch = /(mac["]?\s*[:=]\s*"?)(ENC\[AES256_GCM,data:)(.)/.exec(enc)!;
    const flipped = enc.replace(macMatch[0], macMatch[1]! + macMatch[2]! + B64[(B64.indexOf(macMatch[3]!) + 1) % 64]);
    expect(exitCodeOfError(await failure(format, flipped))).toBe(51);
    await expect(decryptText(format, flipped, key.identity, { ignoreMac: true })).resolves.toContain('hunter2');
  });

  it('a MAC whose type tag is not str fails with 51, as sops fails on it', async () => {
    const retyped = enc.replace(/(mac["]?\s*[:=]\s*"?ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:)str\]/, '$1int]');
    expect(retyped).not.toBe(enc);
    expect(exitCodeOfError(await failure(format, retyped))).toBe(51);
  });

  it('changing an unencrypted value fails with 51 (the MAC covers it)', async () => {
    if (format === 'ini') return; // the INI sample has no unencrypted value
    const text = enc.replace('visible', 'Visible');
    expect(exitCodeOfError(await failure(format, text))).toBe(51);
  });
});

describe('binary', () => {
  it('a flipped data byte fails and the untouched file round-trips bytes exactly', async () => {
    const bytes = Buffer.from([0, 255, 1, 128, 10, 13, 0xc3, 0x28]);
    const enc = await encryptText('binary', bytes, key.recipient);
    const file = await decryptTextBytes(enc);
    expect(Buffer.from(file)).toEqual(bytes);
    const v = values(enc)[0]!;
    const pos = v.start + v.text.indexOf('data:') + 6;
    const c = enc[pos]!;
    const tampered = enc.slice(0, pos) + B64[(B64.indexOf(c) + 1) % 64] + enc.slice(pos + 1);
    expect(exitCodeOfError(await failure('binary', tampered))).toBe(25);
  });
});

async function decryptTextBytes(enc: string): Promise<Uint8Array> {
  const { parseText } = await import('../support/pipeline.js');
  const { verifyOpens } = await import('../../src/sops/open.js');
  const { loadFormat } = await import('../../src/formats/format.js');
  const file = await parseText('binary', enc);
  await verifyOpens(file, { keys: { env: {}, identities: { age: [key.identity] } } });
  return (await loadFormat('binary')).emit(file);
}
