import type { ConfigError } from '../errors.js';
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
  /** Unknown fields in rules and key groups, one line each (`<file>:<line>: ...`): sops ignores them, tsops says so. */
  warnings?: string[];
}

export interface KmsKeyConfig {
  arn: string;
  role?: string;
  context?: Record<string, string>;
  awsProfile?: string;
}

export interface AzureKeyConfig {
  vaultUrl: string;
  key: string;
  version: string;
}

/** One `key_groups` item. Lists are empty when the field is absent. */
export interface KeyGroupConfig {
  line: number;
  merge: KeyGroupConfig[];
  age: string[];
  pgp: string[];
  kms: KmsKeyConfig[];
  gcpKms: string[];
  hckms: string[];
  azureKeyvault: AzureKeyConfig[];
  hcVault: string[];
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
  age: string[];
  pgp: string[];
  /** From `kms` strings: `arn` or `arn+role_arn`. */
  kms: KmsKeyConfig[];
  awsProfile?: string;
  gcpKms: string[];
  azureKeyvault: string[];
  hcVaultTransitUri: string[];
  hckms: string[];
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
