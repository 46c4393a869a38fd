import type { ConfigError } from '../errors.js';
import type { KEY_KINDS } from '../keys/registry.js';
import type { EncryptionRule } from '../sops/rules.js';

/**
 * The parsed config file (`.sopsrc` / `.sops.yaml`). Field names are camelCase
 * versions of the YAML names; every object remembers the line it started on so
 * later errors (an unsupported key kind, no keys) can point back into the file.
 */
export interface Config {
  /** The path the config was read from, as given to the parser. */
  path: string;
  /** `undefined` when the file has no `creation_rules` (sops then treats the config as absent for keys). */
  creationRules?: CreationRule[];
  destinationRules: DestinationRule[];
  stores: StoreSettings;
  /** `tsops.rotate_after`: data keys older than this many days are due for rotation (status marks them). */
  rotateAfterDays?: number;
  /** Unknown fields in rules and key groups, one line each (`<file>:<line>: ...`): sops ignores them, tsops says so. */
  warnings?: string[];
}

/** The keys a rule or group names, per kind (by its metadata name), as each kind's descriptor reads them. */
export type ConfiguredKeys = { [K in RegisteredKind as K['type']]?: EntryOf<K>[] };

type RegisteredKind = (typeof KEY_KINDS)[number];
type EntryOf<K> = K extends { config: { readRule(...args: never[]): (infer E)[] } } ? E : never;

/** One `key_groups` item. */
export interface KeyGroupConfig {
  line: number;
  merge: KeyGroupConfig[];
  keys: ConfiguredKeys;
}

export interface CreationRule {
  /** 0-based position in `creation_rules`. */
  index: number;
  line: number;
  /**
   * Why this rule cannot be used (an invalid regex, a wrong type). It fails
   * only a file whose rule search reaches it, as sops reads rules in order.
   */
  error?: ConfigError;
  pathRegex?: string;
  /** The flat key fields (`age:`, `kms:`, ...). */
  keys: ConfiguredKeys;
  keyGroups: KeyGroupConfig[];
  shamirThreshold?: number;
  /** The one suffix/regex rule the creation rule sets, if any. */
  rule?: EncryptionRule;
  macOnlyEncrypted: boolean;
}

/** A `destination_rules` item: where `publish` sends matching files (see src/config/destinations.ts). */
export interface DestinationRule {
  index: number;
  line: number;
  pathRegex?: string;
  s3Bucket?: string;
  s3Prefix?: string;
  gcsBucket?: string;
  gcsPrefix?: string;
  vaultPath?: string;
  vaultAddress?: string;
  vaultKvMountName?: string;
  vaultKvVersion?: number;
  recreationRule?: CreationRule;
  omitExtensions: boolean;
}

export interface IndentSettings {
  indent?: number;
}

/**
 * Output settings per store, as in sops's `stores` section, by each store's
 * `config.key` (src/formats/registry.ts): for stores that take an indent, its
 * meaning is the store's (see EmitOptions.indent).
 */
export type StoreSettings = Partial<Record<string, IndentSettings>>;
