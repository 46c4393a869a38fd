/**
 * A store is described in its own module (src/formats/NAME.ts and
 * src/formats/NAME/) and listed once in the registry; nothing else may
 * branch on a store by name. Any string literal spelling a store's name, one
 * of its `--input-type` aliases or its `stores:` config key, outside those
 * files, is such a branch (`format === 'binary'`, `case 'json':`,
 * `loadFormat('yaml')`, `{ yml: 'yaml' }`); module specifiers and literal
 * types are not (they cannot branch).
 */
import { describe, expect, it } from 'vitest';
import { STORES } from '../../src/formats/registry.js';
import type { Store } from '../../src/formats/store.js';
import { sourceFiles } from './sources.js';

const REGISTRY = 'formats/registry.ts';

/** Words that spell a store's name but mean something else where they stand. */
const NOT_A_STORE = new Set([
  'formats/yaml/leaves.ts:binary' /* YAML's own !!binary tag */,
  'exec/github-env.ts:ENV' /* the shell's ENV variable, refused as a name to export */,
]);

function ownFile(store: Store, path: string): boolean {
  return path === `formats/${store.name}.ts` || path.startsWith(`formats/${store.name}/`);
}

function spellings(store: Store): Set<string> {
  return new Set([store.name, ...store.aliases, store.config.key].map((s) => s.toLowerCase()));
}

/** `path:line 'literal'` for every mention of a store outside its module and the registry. */
export function storeMentions(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const store of STORES) {
    const names = spellings(store);
    const found: string[] = [];
    for (const file of sourceFiles()) {
      if (file.path === REGISTRY || ownFile(store, file.path)) continue;
      for (const s of file.strings) if (names.has(s.value.toLowerCase()) && !NOT_A_STORE.has(`${file.path}:${s.value}`)) found.push(`src/${file.path}:${s.line} '${s.value}'`);
    }
    out.set(store.name, found);
  }
  return out;
}

describe('store boundaries', () => {
  it('no source outside a store and the registry names a store', () => {
    const mentions = storeMentions();
    const lines = [...mentions].flatMap(([store, found]) => found.map((f) => `${store}: ${f}`));
    console.log(`store mentions outside their modules (${lines.length}):${lines.map((l) => `\n  ${l}`).join('')}`);
    expect(lines).toEqual([]);
  });

  it('every store is complete and answers to its own names only', () => {
    const seen = new Map<string, string>();
    for (const store of STORES) {
      expect(store.newFileTemplate.endsWith('\n'), store.name).toBe(true);
      for (const name of spellings(store)) {
        expect(seen.get(name), `${name} is claimed by two stores`).toBeUndefined();
        seen.set(name, store.name);
      }
    }
    expect(STORES.filter((s) => s.fallback)).toHaveLength(1);
  });
});
