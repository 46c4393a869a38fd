import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MacMismatchError } from '../../src/errors.js';
import { readMetadata } from '../../src/sops/metadata.js';
import { DisposedFileError, OpenedFile } from '../../src/sops/opened-file.js';
import { decryptText, emitText, encryptText, parseText, throwawayAgeKey } from '../support/pipeline.js';

// Every data key the opened file receives or makes, so a test can look at the very buffer it holds.
const handedOut: Buffer[] = [];
vi.mock('../../src/sops/datakey.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/sops/datakey.js')>();
  return {
    ...real,
    unwrapDataKey: async (...args: Parameters<typeof real.unwrapDataKey>) => {
      const key = await real.unwrapDataKey(...args);
      handedOut.push(key);
      return key;
    },
    newDataKey: () => {
      const key = real.newDataKey();
      handedOut.push(key);
      return key;
    },
  };
});

const PLAIN = 'a: one\nb: two\nnested:\n    c: three\n';
let key: { identity: string; recipient: string };
let other: { identity: string; recipient: string };
let encrypted: string;
const keys = () => ({ env: {}, identities: { age: [key.identity, other.identity] } });

beforeAll(async () => {
  key = await throwawayAgeKey();
  other = await throwawayAgeKey();
  encrypted = await encryptText('yaml', PLAIN, key.recipient);
});
beforeEach(() => {
  handedOut.length = 0;
});

const isZero = (b: Buffer): boolean => b.every((x) => x === 0);
const encLines = (text: string): string[] => text.split('\n').filter((l) => l.includes('ENC['));

describe('OpenedFile', () => {
  it('decrypts the tree in place and holds the metadata', async () => {
    const file = await parseText('yaml', encrypted);
    using opened = await OpenedFile.open(file, { keys: keys() });
    expect(file.metadata).toBeUndefined();
    expect(opened.file).toBe(file);
    expect(await emitText(opened.file)).toBe(PLAIN);
    expect(opened.metadata.keyGroups[0]![0]!.fields['recipient']).toBe(key.recipient);
  });

  it('dispose zeroes the data key buffer it holds and forgets it for good', async () => {
    const opened = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
    expect(handedOut).toHaveLength(1);
    const dataKey = handedOut[0]!;
    expect(isZero(dataKey)).toBe(false);
    opened.dispose();
    expect(isZero(dataKey)).toBe(true);
    expect(opened.disposed).toBe(true);
    opened.dispose(); // twice is harmless
  });

  it('a `using` declaration disposes it when the block ends, also on a throw', async () => {
    let dataKey: Buffer | undefined;
    await expect(
      (async () => {
        using opened = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
        dataKey = handedOut[0];
        expect(opened.disposed).toBe(false);
        throw new Error('boom');
      })(),
    ).rejects.toThrow('boom');
    expect(isZero(dataKey!)).toBe(true);
  });

  it('refuses every use once disposed', async () => {
    const opened = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
    const twin = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
    opened.dispose();
    const target = await parseText('yaml', PLAIN);
    expect(() => opened.metadata).toThrow(DisposedFileError);
    expect(() => opened.documents).toThrow(DisposedFileError);
    expect(() => opened.reseal()).toThrow(DisposedFileError);
    expect(() => opened.reseal(target)).toThrow(DisposedFileError);
    expect(() => opened.keySpecs()).toThrow(DisposedFileError);
    expect(() => opened.clone()).toThrow(DisposedFileError);
    expect(() => opened.sameDataKey(twin)).toThrow(DisposedFileError);
    expect(() => twin.sameDataKey(opened)).toThrow(DisposedFileError);
    await expect(opened.rotate({}, keys())).rejects.toThrow(DisposedFileError);
    await expect(opened.rewrap([[{ type: 'age', recipient: key.recipient }]])).rejects.toThrow(DisposedFileError);
    await expect(opened.replaceDataKey([[{ type: 'age', recipient: key.recipient }]], undefined)).rejects.toThrow(DisposedFileError);
    expect(target.metadata).toBeUndefined();
    twin.dispose();
  });

  it('zeroes the key when the file does not verify', async () => {
    const tampered = encrypted.replace(/mac: ENC\[[^\]]*\]/, (m) => m.replace(/data:(.)/, (_x, c: string) => `data:${c === 'A' ? 'B' : 'A'}`));
    expect(tampered).not.toBe(encrypted);
    await expect(OpenedFile.open(await parseText('yaml', tampered), { keys: keys() })).rejects.toThrow(MacMismatchError);
    expect(handedOut).toHaveLength(1);
    expect(isZero(handedOut[0]!)).toBe(true);
  });

  it('re-seals a changed value and keeps the ciphertext of the others when it kept the IVs', async () => {
    const file = await parseText('yaml', encrypted);
    using opened = await OpenedFile.open(file, { keys: keys(), keepIvs: true });
    const b = opened.documents[0]!.items.find((i) => i.kind === 'entry' && i.key === 'b');
    if (b?.kind !== 'entry' || b.value.kind !== 'scalar') throw new Error('no b');
    b.value.value = 'changed';
    opened.reseal();
    const out = await emitText(file);
    const before = encLines(encrypted.split('sops:')[0]!);
    const after = encLines(out.split('sops:')[0]!);
    expect(after.filter((l, i) => l !== before[i]).map((l) => l.trim().split(':')[0])).toEqual(['b']);
    expect(await decryptText('yaml', out, key.identity)).toBe(PLAIN.replace('two', 'changed'));
  });

  it('re-seals another tree under the same key, with the policy given', async () => {
    const partial = await encryptText('yaml', PLAIN, key.recipient, { rule: { kind: 'unencrypted_regex', value: '^x$' } });
    using opened = await OpenedFile.open(await parseText('yaml', partial), { keys: keys() });
    const asFile = await parseText('yaml', 'x: secret\n');
    opened.reseal(asFile);
    expect(await emitText(asFile)).toContain('x: secret');
    const target = await parseText('yaml', 'x: secret\n');
    opened.reseal(target, { rule: undefined, macOnlyEncrypted: false });
    const out = await emitText(target);
    expect(out).not.toContain('secret');
    expect(await decryptText('yaml', out, key.identity)).toBe('x: secret\n');
  });

  it('rotate adopts a new data key, forgets the old one and wraps for the changed keys', async () => {
    const file = await parseText('yaml', encrypted);
    using opened = await OpenedFile.open(file, { keys: keys(), keepIvs: true });
    const oldKey = handedOut[0]!;
    await opened.rotate({ add: [{ type: 'age', recipient: other.recipient }], remove: [key.recipient] }, keys());
    expect(isZero(oldKey)).toBe(true);
    const newKey = handedOut[1]!;
    expect(isZero(newKey)).toBe(false);
    opened.reseal();
    const out = await emitText(file);
    expect(readMetadata((await parseText('yaml', out)).metadata!).keyGroups.flat().map((r) => r.fields['recipient'])).toEqual([other.recipient]);
    expect(await decryptText('yaml', out, other.identity)).toBe(PLAIN);
    await expect(decryptText('yaml', out, key.identity)).rejects.toThrow();
    opened.dispose();
    expect(isZero(newKey)).toBe(true);
  });

  it('rewrap gives metadata for the untouched file under the same data key', async () => {
    using opened = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
    const untouched = await parseText('yaml', encrypted);
    const mac = readMetadata(untouched.metadata!).mac;
    untouched.metadata = await opened.rewrap([[{ type: 'age', recipient: other.recipient }]]);
    const out = await emitText(untouched);
    expect(readMetadata((await parseText('yaml', out)).metadata!).mac).toBe(mac);
    expect(encLines(out.split('sops:')[0]!)).toEqual(encLines(encrypted.split('sops:')[0]!));
    expect(await decryptText('yaml', out, other.identity)).toBe(PLAIN);
  });

  it('a clone owns a copy of the key: disposing one leaves the other usable', async () => {
    const opened = await OpenedFile.open(await parseText('yaml', encrypted), { keys: keys() });
    using clone = opened.clone();
    expect(clone.sameDataKey(opened)).toBe(true);
    opened.dispose();
    const target = await parseText('yaml', 'k: v\n');
    clone.reseal(target);
    expect(await decryptText('yaml', await emitText(target), key.identity)).toBe('k: v\n');
  });
});
