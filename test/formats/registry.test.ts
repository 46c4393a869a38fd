import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { formatForPath, parseFormatName } from '../../src/formats/format.js';
import { detectableStores, STORES, storeClaimingName, storeNamed, unnamedStore } from '../../src/formats/registry.js';
import { map, scalar } from '../../src/tree.js';

describe('the store registry', () => {
  it('gives file names the stores sops gives them, the first claim winning', () => {
    const cases: [string, string][] = [
      ['a.yaml', 'yaml'], ['dir/A.YML', 'yaml'], ['a.json', 'json'], ['a.ini', 'ini'], ['.env', 'dotenv'], ['prod.env', 'dotenv'],
      ['.env.production', 'dotenv'], ['x.env.json', 'json'], ['.env.ini', 'ini'], ['.env.yaml', 'yaml'], ['secrets', 'binary'],
      ['key.bin', 'binary'], ['C:\\dir\\a.json', 'json'], ['a.yaml/b', 'binary'],
    ];
    for (const [path, store] of cases) expect(formatForPath(path), path).toBe(store);
    expect(storeClaimingName('secrets')).toBeUndefined();
    expect(storeClaimingName('x.BIN')?.name).toBe('binary');
    expect(unnamedStore().name).toBe('binary');
  });

  it('reads the --input-type spellings sops accepts, in any case, and no other', () => {
    for (const [text, store] of [['YAML', 'yaml'], ['yml', 'yaml'], ['Json', 'json'], ['env', 'dotenv'], ['dotenv', 'dotenv'], ['ini', 'ini'], ['binary', 'binary']]) {
      expect(parseFormatName(text!), text).toBe(store);
    }
    for (const text of ['', 'toml', 'json_binary', '__proto__', 'constructor']) expect(parseFormatName(text), text).toBeUndefined();
  });

  it('refuses a store name it does not have as a usage error', () => {
    expect(() => storeNamed('toml')).toThrow(UsageError);
    expect(() => storeNamed('__proto__')).toThrow(UsageError);
  });

  it('says which stores hold nested trees (what a Kubernetes manifest needs)', () => {
    expect(STORES.filter((s) => s.holdsNestedTrees).map((s) => s.name)).toEqual(['yaml', 'json']);
  });

  it('tries the most specific stores first when detecting content', () => {
    expect(detectableStores().map((s) => s.name)).toEqual(['json', 'dotenv', 'ini', 'yaml']);
  });

  it('writes a lone --extract value as each store writes values', async () => {
    const value = map([['n', scalar('int', 5n)]]).items[0]!;
    const node = value.kind === 'entry' ? value.value : scalar('null', null);
    const written = Object.fromEntries(await Promise.all(STORES.map(async (s) => [s.name, Buffer.from(await s.writeValue(node, undefined)).toString()])));
    expect(written).toEqual({ yaml: '5\n', json: '5\n', ini: '5\n', dotenv: '5\n', binary: '5\n' });
  });

  it('parses and emits a new-file template in its own store', async () => {
    for (const store of STORES) {
      const format = await store.load();
      const parsed = format.parse(Buffer.from(store.newFileTemplate));
      expect(parsed.format, store.name).toBe(store.name);
      expect(Buffer.from(format.emit(parsed)).toString(), store.name).toBe(store.newFileTemplate);
    }
  });
});
