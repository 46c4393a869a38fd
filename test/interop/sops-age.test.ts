/**
 * Files written by tsops decrypt with an independent implementation, `sops-age`.
 * sops-age's own limits shape the generators: it reads only `sops.age` (no key
 * groups), has no `time` type, drops all-digit keys from the AAD path, and
 * parses ints with parseInt (so only safe integers).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decryptSops } from 'sops-age';
import { stringify } from 'yaml';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';

const key = await throwawayAgeKey();

const keyArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((k) => !/^\d+$/.test(k) && k !== 'sops' && k !== '__proto__' && !k.endsWith('_unencrypted') && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(k));

const scalarArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029]/.test(s) && !/^\d{4}-\d/.test(s)),
  fc.constant(''),
  fc.constantFrom('multi\nline\ntext', 'trailing newline\n', ' leading space', 'key: value', '# not a comment', 'true', '123', 'null', 'ünïcödé ✓ 🗝'),
  fc.maxSafeInteger().map((n) => n),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).filter((d) => !Object.is(d, -0)),
  fc.boolean(),
);

const treeArb = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, tie('list'), tie('map')),
  list: fc.array(fc.oneof(scalarArb, tie('map')), { maxLength: 4 }),
  map: fc.dictionary(keyArb, tie('value'), { maxKeys: 5, noNullPrototype: true }),
}));

const rootArb = fc.dictionary(keyArb, treeArb.value, { minKeys: 1, maxKeys: 6, noNullPrototype: true });

async function viaSopsAge(text: string, fileType: 'yaml' | 'json' | 'env'): Promise<unknown> {
  return decryptSops(text, { secretKey: key.identity, fileType });
}

describe('sops-age decrypts what tsops encrypts', () => {
  it('YAML documents', async () => {
    await fc.assert(
      fc.asyncProperty(rootArb, async (data) => {
        const enc = await encryptText('yaml', stringify(data), key.recipient);
        expect(await viaSopsAge(enc, 'yaml')).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });

  it('JSON documents', async () => {
    await fc.assert(
      fc.asyncProperty(rootArb, async (data) => {
        const enc = await encryptText('json', JSON.stringify(data, null, 2), key.recipient);
        expect(await viaSopsAge(enc, 'json')).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });

  it('dotenv files', async () => {
    const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/).filter((k) => !k.startsWith('sops_') && !k.endsWith('_unencrypted'));
    const envValue = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f"'`#\\]/.test(s) && s.trim() === s);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(envKey, envValue, { minKeys: 1, maxKeys: 8, noNullPrototype: true }), async (data) => {
        const text = Object.entries(data).map(([k, v]) => `${k}=${v}\n`).join('');
        const enc = await encryptText('dotenv', text, key.recipient);
        expect(await viaSopsAge(enc, 'env')).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });
});
