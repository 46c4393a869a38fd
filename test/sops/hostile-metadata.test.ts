/**
 * Hand-made hostile files: a `sops` block whose fields have the wrong types,
 * ENC values whose type tag lies about their plaintext, and MACs of the wrong
 * length. Each must end in a one-line TsopsError with a documented exit code
 * that does not quote the secret.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TsopsError } from '../../src/errors.js';
import { decryptText, encryptText, throwawayAgeKey } from '../support/pipeline.js';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';

const SECRET = 'hunter2-sentinel';
/** sops's exit codes a broken file may give (see the README's table). */
const DOCUMENTED = new Set([1, 2, 3, 23, 24, 25, 26, 51, 100, 128]);

let key: { identity: string; recipient: string };
let enc: string;
beforeAll(async () => {
  key = await throwawayAgeKey();
  enc = await encryptText('yaml', `db:\n    password: ${SECRET}\n    port: 5432\n`, key.recipient);
});

async function failure(text: string): Promise<TsopsError> {
  try {
    await decryptText('yaml', text, key.identity);
  } catch (e) {
    expect(e).toBeInstanceOf(TsopsError);
    return e as TsopsError;
  }
  throw new Error(`decrypted without an error:\n${text}`);
}

function clean(e: TsopsError): void {
  expect(DOCUMENTED.has(exitCodeOfError(e)), `exit ${exitCodeOfError(e)}: ${e.message}`).toBe(true);
  expect(e.message).not.toContain('\n');
  expect(e.message).not.toContain(SECRET);
}

/** Replaces the value of one `sops:` field (a line `    name: ...`). */
function withField(name: string, value: string): string {
  const re = new RegExp(`^(    ${name}:).*$`, 'm');
  expect(re.test(enc), name).toBe(true);
  return enc.replace(re, `$1 ${value}`);
}

describe('a sops block with fields of the wrong type', () => {
  const cases: [string, string][] = [
    ['mac', '12345'],
    ['mac', '[a, b]'],
    ['mac', '{x: 1}'],
    ['lastmodified', '[1]'],
    ['lastmodified', '12'],
    ['lastmodified', 'not-a-time'],
    ['version', '[3]'],
    ['unencrypted_suffix', '{a: b}'],
  ];
  it.each(cases)('%s: %s', async (field, value) => {
    clean(await failure(withField(field, value)));
  });

  it('age as a string, a recipient as a map', async () => {
    clean(await failure(enc.replace(/^    age:$/m, '    age: nope\n    x_age:')));
    const recipient = /^( +recipient:) \S+$/m;
    expect(recipient.test(enc)).toBe(true);
    clean(await failure(enc.replace(recipient, '$1 {a: 1}')));
  });

  it('no sops block at all, or a sops key that is not a map', async () => {
    const body = enc.slice(0, enc.indexOf('sops:'));
    clean(await failure(body));
    clean(await failure(`${body}sops: 5\n`));
  });
});

describe('ENC values whose type tag lies', () => {
  const password = (): RegExpExecArray => /(password: ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:)str\]/.exec(enc)!;

  it.each(['int', 'float', 'bool', 'time', 'bogus', ''])('a string sealed as type:%s', async (type) => {
    const m = password();
    clean(await failure(enc.replace(m[0], `${m[1]}${type}]`)));
  });
});

describe('MACs of the wrong length', () => {
  const macData = (): RegExpExecArray => /(mac: ENC\[AES256_GCM,data:)([^,]+)(,iv:)/.exec(enc)!;

  it.each([
    ['cut to 8 bytes', (d: string) => Buffer.from(d, 'base64').subarray(0, 8).toString('base64')],
    ['one byte longer', (d: string) => Buffer.concat([Buffer.from(d, 'base64'), Buffer.from([0])]).toString('base64')],
    ['empty', () => ''],
    ['not base64', () => '!!!!'],
  ])('%s', async (_name, change) => {
    const m = macData();
    const e = await failure(enc.replace(m[0], `${m[1]}${change(m[2]!)}${m[3]}`));
    clean(e);
    expect([1, 51]).toContain(exitCodeOfError(e));
  });

  it('a truncated iv or tag on the MAC', async () => {
    for (const field of ['iv', 'tag']) {
      const re = new RegExp(`(mac: ENC\\[AES256_GCM,.*${field}:)([^,\\]]+)`);
      const m = re.exec(enc)!;
      const e = await failure(enc.replace(m[0], `${m[1]}${m[2]!.slice(0, 8)}`));
      clean(e);
    }
  });
});
