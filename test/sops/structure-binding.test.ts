import { exitCodeOfError } from '../../src/cli/exit-codes.js';
/**
 * The structure binding (docs/structure-binding.md) catches the edits the sops
 * MAC lets through. Each case is checked twice: with the binding the edit
 * fails with 51; with the binding stripped (what a sops rewrite leaves) the
 * same edit decrypts, which shows the case is a real gap of the sops format
 * and not something the MAC already catches.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptSops } from 'sops-age';
import { parse as parseYaml } from 'yaml';
import { MacMismatchError, TsopsError } from '../../src/errors.js';
import type { FormatName } from '../../src/tree.js';
import { decryptText, encryptText, throwawayAgeKey, withoutBinding } from '../support/pipeline.js';

let key: { identity: string; recipient: string };
beforeAll(async () => {
  key = await throwawayAgeKey();
});

async function outcome(format: FormatName, text: string): Promise<'decrypts' | 'mismatch' | TsopsError> {
  try {
    await decryptText(format, text, key.identity);
    return 'decrypts';
  } catch (e) {
    if (e instanceof MacMismatchError && /structure mismatch/.test(e.message)) return 'mismatch';
    if (e instanceof TsopsError) return e;
    throw e;
  }
}

interface GapCase {
  name: string;
  format: FormatName;
  plaintext: string;
  settings?: { macOnlyEncrypted?: boolean };
  tamper(encrypted: string): string;
}

const gaps: GapCase[] = [
  {
    name: 'regrouping a list of maps',
    format: 'yaml',
    plaintext: 'users:\n    - name: alice\n      token: a1\n    - name: bob\n      token: b2\n',
    tamper: (t) => t.replace(/(\n    - name: (ENC\[[^\]]*\]))\n      token:/, '$1\n    - token:'),
  },
  {
    name: 'moving a key to another document',
    format: 'yaml',
    plaintext: 'a: one\nb: two\n---\nc: three\n',
    tamper: (t) => {
      const b = /\nb: (ENC\[[^\]]*\])/.exec(t)![0];
      return t.replace(b, '').replace(/\n---\n/, `\n---${b}\n`);
    },
  },
  {
    name: 'a one-item list becoming a scalar',
    format: 'yaml',
    plaintext: 'hosts:\n    - db.internal\nport: 1\n',
    tamper: (t) => t.replace(/hosts:\n    - (ENC\[[^\]]*\])/, 'hosts: $1'),
  },
  {
    name: 'adding an empty value (.env)',
    format: 'dotenv',
    plaintext: 'API_TOKEN=t0k3n\n',
    tamper: (t) => `PATH=\n${t}`,
  },
  {
    name: 'adding an empty value (YAML)',
    format: 'yaml',
    plaintext: 'token: t0k3n\n',
    tamper: (t) => `extra: ""\n${t}`,
  },
  {
    name: 'renaming a key whose value is plaintext',
    format: 'yaml',
    plaintext: 'mode_unencrypted: safe\ntoken: t0k3n\n',
    tamper: (t) => t.replace('mode_unencrypted:', 'other_unencrypted:'),
  },
  {
    name: 'changing a plaintext value of a mac_only_encrypted file',
    format: 'dotenv',
    plaintext: 'API_TOKEN=t0k3n\nLOG_unencrypted=info\n',
    settings: { macOnlyEncrypted: true },
    tamper: (t) => t.replace('LOG_unencrypted=info', 'LOG_unencrypted=--import=/tmp/x.mjs'),
  },
  {
    name: "changing an encrypted value's type tag",
    format: 'yaml',
    plaintext: 'port: 5432\n',
    tamper: (t) => t.replace(/(port: ENC\[[^\]]*),type:int\]/, '$1,type:str]'),
  },
];

describe('edits the sops MAC does not cover', () => {
  it.each(gaps)('$name fails with the binding and passes without it', async (c) => {
    const encrypted = await encryptText(c.format, c.plaintext, key.recipient, c.settings ?? {});
    expect(encrypted).toMatch(/tsops_structure/);
    const tampered = c.tamper(encrypted);
    expect(tampered).not.toBe(encrypted);
    expect(await outcome(c.format, encrypted)).toBe('decrypts');
    expect(await outcome(c.format, tampered)).toBe('mismatch');
    expect(await outcome(c.format, withoutBinding(tampered))).toBe('decrypts');
  });

  it('a structure mismatch is exit 51 and names no value', async () => {
    const encrypted = await encryptText('dotenv', 'API_TOKEN=t0k3n\n', key.recipient);
    const result = await outcome('dotenv', `PATH=\n${encrypted}`);
    expect(result).toBe('mismatch');
    try {
      await decryptText('dotenv', `PATH=\n${encrypted}`, key.identity);
    } catch (e) {
      expect(exitCodeOfError(e as TsopsError)).toBe(51);
      expect((e as Error).message).not.toMatch(/t0k3n/);
    }
  });

  it('--ignore-mac skips the binding as it skips the MAC', async () => {
    const encrypted = await encryptText('dotenv', 'API_TOKEN=t0k3n\n', key.recipient);
    await expect(decryptText('dotenv', `PATH=\n${encrypted}`, key.identity, { ignoreMac: true })).resolves.toContain('API_TOKEN=t0k3n');
  });
});

describe('what keeps the binding valid', () => {
  it('comments and blank lines may change', async () => {
    const encrypted = await encryptText('yaml', '# top\na: one\n\nb: two\n', key.recipient);
    const edited = encrypted.replace('# top', '# a different comment\n\n# and another');
    expect(await outcome('yaml', edited)).toBe('decrypts');
  });

  it('a generic YAML-to-JSON conversion of the encrypted file still verifies', async () => {
    const plaintext = 'db:\n    password: hunter2\n    port: 5432\nratio_unencrypted: 1.0\nenabled_unencrypted: true\nlist:\n    - a\n    - 2\n';
    const encrypted = await encryptText('yaml', plaintext, key.recipient);
    const json = JSON.stringify(parseYaml(encrypted), null, 2);
    await expect(decryptText('json', json, key.identity)).resolves.toContain('hunter2');
  });

  it('a plaintext value keeps verifying when its type is one the store cannot hold (.env holds strings)', async () => {
    const encrypted = await encryptText('json', '{"token": "t0k3n", "port_unencrypted": 5432, "none_unencrypted": null}\n', key.recipient);
    expect(await outcome('json', encrypted.replace('"port_unencrypted": 5432', '"port_unencrypted": "5432"').replace('"none_unencrypted": null', '"none_unencrypted": ""'))).toBe('decrypts');
  });

  it('an unknown binding version is a warning, not a failure', async () => {
    const encrypted = await encryptText('yaml', 'a: one\n', key.recipient);
    expect(await outcome('yaml', encrypted.replace(/tsops_structure: v1:/, 'tsops_structure: v9:'))).toBe('decrypts');
  });

  it('a forged binding (the right shape, another key) is a mismatch', async () => {
    const encrypted = await encryptText('yaml', 'a: one\n', key.recipient);
    const forged = encrypted.replace(/tsops_structure: v1:[A-Za-z0-9+/=]+/, `tsops_structure: v1:${Buffer.alloc(32, 7).toString('base64')}`);
    expect(await outcome('yaml', forged)).toBe('mismatch');
  });
});

describe('sops readers ignore the field', () => {
  it.each([
    ['yaml', 'yaml', 'db:\n    password: hunter2\nport: 5432\n'],
    ['json', 'json', '{"db": {"password": "hunter2"}, "port": 5432}'],
    ['dotenv', 'env', 'PASSWORD=hunter2\nPORT=5432\n'],
  ] as const)('%s: an independent decoder decrypts a file carrying the binding', async (format, fileType, plaintext) => {
    const encrypted = await encryptText(format, plaintext, key.recipient);
    expect(encrypted).toMatch(/tsops_structure/);
    const data = (await decryptSops(encrypted, { secretKey: key.identity, fileType })) as Record<string, unknown>;
    expect(JSON.stringify(data)).toContain('hunter2');
  });
});
