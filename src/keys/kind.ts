import type { Field, YamlReader } from '../yaml-fields/reader.js';
import type { KeyOptions, KeyRecord, MasterKeyKind } from './masterkey.js';

/**
 * Everything the rest of tsops knows about one master-key kind: how sops
 * stores it, how config files, flags and the environment spell it, and where
 * its wrap/unwrap code lives. Each kind is one folder under src/keys/ whose
 * descriptor module exports one of these; src/keys/registry.ts lists them.
 * `Spec` is the key to encrypt for, `Entry` one configured key as read from a
 * config file, `Options` the command-line options qualifying the kind's keys.
 */
export interface KeyKind<Type extends string = string, Spec extends { type: Type } = any, Entry = any, Options = any> {
  /** The metadata field listing keys of this kind (`age`, `kms`), also its name in `--decryption-order`. */
  readonly type: Type;
  /** Where sops reads this kind among one group's keys: lower first (it reads KMS first and age last). */
  readonly loadRank: number;
  readonly record: KeyRecordShape;
  readonly config: KeyKindConfig<Spec, Entry, Options>;
  /** The environment variable sops reads keys of this kind from when encrypting. */
  readonly env: string;
  /** sops's flag spelling: `--NAME` to encrypt, `--add-NAME` / `--rm-NAME` to rotate. */
  readonly flag: string;
  /** What tsops needs to encrypt for the kind; absent for kinds only kept as read, so re-encryption preserves them. */
  readonly keys?: WrappableKind<Spec, Options>;
  /** npm packages its wrap/unwrap code imports on first use; the CLI bundle leaves them in node_modules (scripts/build.mjs). */
  readonly lazyPackages?: readonly string[];
  /** Present on the kind whose identities tsops creates for the user. */
  readonly personal?: PersonalKeys;
  /** Tried before other kinds when no decryption order is given, lower first (sops: age, then PGP). */
  readonly decryptionPriority?: number;
  /** Environment variables that carry or point at private keys of this kind, withheld from commands tsops runs. */
  readonly keyMaterialEnv?: readonly string[];
  /** The library option (`decryptData`) holding extra identities of this kind. */
  readonly identitiesOption?: string;
  /** Unwraps from local identities alone, with no network call and no prompt; the commit-time secret scan opens files through such kinds only. */
  readonly unattended?: boolean;
}

export interface KeyRecordShape {
  /** The identity sops compares stored keys by (rotate --rm-*, updatekeys, status). */
  identity(record: KeyRecord): string;
  /** Fields sops writes even when unset, with the value it writes. */
  readonly alwaysWritten?: Readonly<Record<string, string>>;
  /** sops writes an empty list of this kind into every key group. */
  readonly listedInEveryGroup?: boolean;
}

export interface KeyKindConfig<Spec, Entry, Options> {
  /** The creation_rules fields the kind reads; the first holds its keys (and names it in messages). */
  readonly ruleFields: readonly string[];
  /** Its field inside a `key_groups` item. */
  readonly groupField: string;
  /** The keys a creation rule names in its flat fields. */
  readRule(reader: YamlReader, field: (name: string) => Field | undefined): Entry[];
  /** The keys one `key_groups` item names in the kind's field. */
  readGroup(reader: YamlReader, field: Field): Entry[];
  /**
   * The key to encrypt for. `flagOptions` are the command-line options of the
   * kind, given for a rule's flat keys only. Absent: the config may name the
   * kind, but a file that needs those keys fails.
   */
  toSpec?(entry: Entry, flagOptions: Options | undefined): Spec;
}

/** A command-line option qualifying a kind's keys (`--aws-profile`), by the attribute commander gives it. */
export interface KeyFlagOption {
  readonly attribute: string;
  /** As commander takes it: `--aws-profile <name>`. */
  readonly flag: string;
  readonly help: string;
}

export interface WrappableKind<Spec, Options> {
  fromRecord(record: KeyRecord): Spec;
  identity(spec: Spec): string;
  /** One key as written on the command line, in the environment or in the library's options. */
  parse(text: string, options: Options | undefined): Spec;
  /** Reads (and checks) the kind's qualifying options; called whenever key flags are read, even with no keys of the kind. */
  readOptions?(given: Readonly<Record<string, string | undefined>>): Options | undefined;
  readonly help: KeyKindHelp;
  /** Matches one of the kind's keys in a line of a config file, to name it in `status` (a RegExp source). */
  readonly keyPattern: string;
  /** The kind's wrap/unwrap code, imported on first use. */
  load(options: KeyOptions): Promise<MasterKeyKind>;
}

export interface KeyKindHelp {
  readonly short?: string;
  /** The placeholder of a list value, e.g. `recipients`. */
  readonly placeholder: string;
  readonly encrypt: string;
  readonly add: string;
  readonly remove: string;
  /** `groups add --NAME`: one key of the new group. */
  readonly group: string;
  readonly options?: readonly KeyFlagOption[];
}

/**
 * Checks a descriptor against its kind's types and keeps its literal shape
 * (type name, which parts it has), for the registry to derive unions from.
 */
export function defineKeyKind<Type extends string, Spec extends { type: Type } = never, Entry = unknown, Options = undefined>() {
  return <const Kind extends KeyKind<Type, Spec, Entry, Options>>(kind: Kind): Kind => kind;
}

/** A kind whose identities tsops creates for the user (`keygen`, `init`). */
export interface PersonalKeys {
  /** The keys file decryption reads by default. */
  defaultKeysFile(env: NodeJS.ProcessEnv): string;
  /** The keys file `keygen` adds to: the one the environment names, else the default. */
  keysFile(env: NodeJS.ProcessEnv): string;
  /** Adds a new identity to the keys file at `path` (created only its owner can read) and returns its public key. */
  addIdentity(path: string): Promise<string>;
  /** The public key of the first identity a keys file names in its comments, if any. */
  publicKeyIn(keysFileText: string): string | undefined;
}
