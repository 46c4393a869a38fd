import { UsageError } from '../errors.js';
import { binaryStore } from './binary/store.js';
import { dotenvStore } from './dotenv/store.js';
import { iniStore } from './ini/store.js';
import { jsonStore } from './json/store.js';
import type { Store } from './store.js';
import { yamlStore } from './yaml/store.js';

/**
 * The stores, one line each. A file name two stores claim is the first one's
 * (`x.env.json` is JSON, `.env.ini` is INI).
 */
export const STORES: readonly Store[] = [
  yamlStore,
  jsonStore,
  iniStore,
  dotenvStore,
  binaryStore,
];

const FALLBACK = STORES.find((s) => s.fallback)!;

/** The store a parsed file's `format` names; a name no store has is a usage error, not a crash. */
export function storeNamed(name: string): Store {
  const store = STORES.find((s) => s.name === name);
  if (!store) throw new UsageError(`unknown file format '${name}' (one of: ${STORES.map((s) => s.name).join(', ')})`, 'bad-usage');
  return store;
}

/** `--input-type` / `--output-type` values, as sops spells them, in any case. */
export function storeForTypeName(text: string): Store | undefined {
  const key = text.toLowerCase();
  return STORES.find((s) => s.name === key || s.aliases.includes(key));
}

/** The store whose extension a file name has, if any. */
export function storeClaimingName(path: string): Store | undefined {
  const base = (path.split(/[\\/]/).pop() ?? path).toLowerCase();
  return STORES.find((s) => s.claimsName(base));
}

/** The store a file name implies: the one claiming it, the fallback (binary) otherwise. */
export function storeForPath(path: string): Store {
  return storeClaimingName(path) ?? FALLBACK;
}

/** The store for content with no name at all (standard input). */
export function unnamedStore(): Store {
  return FALLBACK;
}

/** The stores content detection tries, most specific first. */
export function detectableStores(): Store[] {
  return STORES.filter((s) => s.detection).sort((a, b) => a.detection!.rank - b.detection!.rank);
}
