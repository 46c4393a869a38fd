/**
 * tsops as a library: decrypt sops files in-process, load them into the
 * environment, encrypt new ones. The same layers the CLI uses; nothing here
 * writes to stdout, reads argv or exits.
 *
 * @example
 * ```ts
 * import { loadEnv, decryptFile } from 'tsops';
 * await loadEnv('secrets.enc.env');            // process.env now holds the values
 * const config = await decryptFile('config.enc.yaml');
 * ```
 */
import { resolve } from 'node:path';
import { decryptBytes, decryptPath, type OpenOptions } from './exec/decrypt.js';
import { emptyOverride, type EmptyValues } from './exec/env.js';
import { loadSecretVariables } from './exec/run-with-secrets.js';
import { loadFormat } from './formats/format.js';
import type { KeyOptions, KeySpec, MasterKeyType } from './keys/masterkey.js';
import { KEY_KINDS, wrappableKinds } from './keys/registry.js';
import { Secret } from './secret.js';
import { encryptDocument } from './sops/index.js';
import { toPlain, type FormatName, type MapNode } from './tree.js';

export { Secret } from './secret.js';
export { EnvironmentError } from './exec/env.js';
export {
  DecryptionError,
  EmitError,
  EncryptionError,
  FileAlreadyEncryptedError,
  InputError,
  KeyWrapError,
  MacMismatchError,
  MalformedFileError,
  MetadataNotFoundError,
  NoDocumentError,
  NoKeyError,
  TsopsError,
  type ErrorKind,
  type KeyFailure,
} from './errors.js';
export { ExitCode, exitCodeOf } from './cli/exit-codes.js';
export type { FormatName } from './tree.js';
export type { MasterKeyType } from './keys/masterkey.js';

type RegisteredKind = (typeof KEY_KINDS)[number];

/** Extra identities per kind, under the option each kind names (`ageIdentities`: `AGE-SECRET-KEY-1...`), tried before those the environment names. */
export type IdentityOptions = { [K in RegisteredKind as K extends { identitiesOption: infer N extends string } ? N : never]?: string[] };

/** Keys to encrypt for, per kind tsops can encrypt for, by its metadata name (`age`: `age1...`; `pgp`: fingerprints; `kms`: `arn` or `arn+role_arn`). */
export type KeysByKind = { [K in RegisteredKind as K extends { keys: object } ? K['type'] : never]?: string[] };

/** How to find the keys that decrypt a file. */
export interface KeyChoice extends IdentityOptions {
  /** Skip the MAC check (recovering a damaged file). Default false: a mismatch throws {@link MacMismatchError}. */
  ignoreMac?: boolean;
  /**
   * Where key settings are read (`SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`,
   * `GNUPGHOME`, AWS variables...). Default: `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Master key types in the order to try them, e.g. `['age', 'pgp']` (sops's `--decryption-order`). */
  decryptionOrder?: MasterKeyType[];
}

export interface DecryptFileOptions extends KeyChoice {
  /** Default: from the file name (`.yaml`/`.yml`, `.json`, `.env`, `.ini`; anything else binary). */
  format?: FormatName;
}

export interface DecryptDataOptions extends KeyChoice {
  /** The format of `data`. */
  format: FormatName;
}

function openOptions(options: KeyChoice & { format?: FormatName }): OpenOptions {
  const keys: KeyOptions = { env: options.env ?? process.env };
  for (const kind of KEY_KINDS) {
    const given = 'identitiesOption' in kind ? (options as Record<string, string[] | undefined>)[kind.identitiesOption] : undefined;
    if (given?.length) (keys.identities ??= {})[kind.type] = [...given];
  }
  return {
    keys,
    ...(options.format ? { format: options.format, exactFormat: true } : {}),
    ...(options.ignoreMac ? { ignoreMac: true } : {}),
    ...(options.decryptionOrder ? { decryptionOrder: options.decryptionOrder } : {}),
  };
}

function firstDocument(documents: MapNode[]): Record<string, unknown> {
  return documents[0] ? (toPlain(documents[0]) as Record<string, unknown>) : {};
}

/**
 * Decrypts an encrypted file and returns its first document as a plain
 * object: maps are objects, lists arrays, ints numbers (bigint beyond 2^53),
 * floats numbers, booleans, times as RFC 3339 strings, comments dropped.
 * A binary file gives `{ data: text }`.
 *
 * @throws {@link NoKeyError} no available key opens the file (`failures` says why per key)
 * @throws {@link MacMismatchError} the values do not match the MAC (the file was tampered with)
 * @throws {@link DecryptionError} a value does not decrypt
 * @throws {@link MetadataNotFoundError} the file is not encrypted
 * @throws {@link TsopsError} anything else (missing file, malformed file), whose `kind` says what failed ({@link exitCodeOf} gives the CLI's exit code for it)
 */
export async function decryptFile(path: string, options: DecryptFileOptions = {}): Promise<Record<string, unknown>> {
  const parsed = await decryptPath(resolve(path), openOptions(options));
  return firstDocument(parsed.documents);
}

/** {@link decryptFile} for encrypted text or bytes already in memory. */
export async function decryptData(data: string | Uint8Array, options: DecryptDataOptions): Promise<Record<string, unknown>> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const parsed = await decryptBytes(bytes, options.format, undefined, openOptions(options));
  return firstDocument(parsed.documents);
}

/** A decrypted value with every leaf that is not null wrapped in a {@link Secret}. */
export type SecretTree = Secret<string | number | bigint | boolean> | null | SecretTree[] | { [key: string]: SecretTree };

/**
 * {@link decryptFile}, with every leaf value wrapped in a {@link Secret}, so a
 * stray `console.log(config)` prints `[redacted]` instead of passwords.
 */
export async function loadSecrets(path: string, options: DecryptFileOptions = {}): Promise<Record<string, SecretTree>> {
  return wrapLeaves(await decryptFile(path, options)) as Record<string, SecretTree>;
}

function wrapLeaves(value: unknown): SecretTree {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(wrapLeaves);
  if (typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: { [key: string]: SecretTree } = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: wrapLeaves(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return new Secret(value as string | number | bigint | boolean);
}

export interface LoadEnvOptions extends Omit<KeyChoice, 'env'> {
  /** The environment to set the variables in. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where key settings are read. Default: `process.env`. */
  keyEnv?: NodeJS.ProcessEnv;
  /** The secrets replace variables already set (default true, as exec-env). False: existing variables stay. */
  override?: boolean;
  /** Nested values become `path_to_leaf` variables instead of an error. */
  flatten?: boolean;
  /** Default: from each file's name. */
  format?: FormatName;
  /**
   * Let an empty value replace a variable already set (or an earlier file's).
   * Empty values are never in the MAC, so by default one may only add a
   * variable: `PATH=` appended to a file is an {@link EnvironmentError}.
   */
  allowEmptyOverride?: boolean;
  /** Use plaintext values of a `mac_only_encrypted` file, which the MAC does not cover (default: an {@link EnvironmentError}). */
  allowUnauthenticated?: boolean;
}

/**
 * Decrypts the files as `tsops exec-env` does (top-level values of the first
 * document; later files win; nested values are an {@link EnvironmentError}
 * unless `flatten`) and sets the variables in `options.env`. Returns every
 * variable the files define, wrapped in {@link Secret}, whether or not it was
 * set (see `override`).
 */
export async function loadEnv(paths: string | string[], options: LoadEnvOptions = {}): Promise<Record<string, Secret>> {
  const files = (Array.isArray(paths) ? paths : [paths]).map((p) => resolve(p));
  const target = options.env ?? process.env;
  const empties: EmptyValues = new Map();
  const variables = await loadSecretVariables(files, {
    cwd: process.cwd(),
    open: openOptions({ ...options, env: options.keyEnv ?? process.env }),
    empties,
    ...(options.flatten ? { flatten: true } : {}),
    ...(options.allowEmptyOverride ? { allowEmptyOverride: true } : {}),
    ...(options.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
  });
  if (options.override !== false && !options.allowEmptyOverride) {
    for (const [name, file] of empties) {
      const current = target[name];
      if (current !== undefined && current !== '') {
        variables.clear();
        throw emptyOverride(name, 'the variable already set', file);
      }
    }
  }
  const out: Record<string, Secret> = {};
  for (const [name, value] of variables) {
    if (options.override !== false || target[name] === undefined) target[name] = value;
    Object.defineProperty(out, name, { value: new Secret(value), enumerable: true, writable: true, configurable: true });
  }
  variables.clear();
  return out;
}

export interface EncryptDataOptions extends KeysByKind {
  /** The format of `data` (and of the result). */
  format: FormatName;
  /** Where key settings are read (AWS credentials, GNUPGHOME). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Encrypts plaintext text for the given keys (one key group; any one key
 * decrypts) with sops's defaults: every value encrypted except under keys
 * ending in `_unencrypted`. Returns the encrypted file text.
 */
export async function encryptData(data: string | Uint8Array, options: EncryptDataOptions): Promise<string> {
  const given = options as unknown as Record<string, string[] | undefined>;
  const keys = wrappableKinds().flatMap((kind) => (given[kind.type] ?? []).map((text) => kind.keys.parse(text, undefined) as KeySpec));
  if (keys.length === 0) throw new TypeError(`encryptData needs at least one key (${wrappableKinds().map((kind) => kind.type).join(', ')})`);
  const format = await loadFormat(options.format);
  const file = format.parse(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  await encryptDocument(file, { keyGroups: [keys] }, { env: options.env ?? process.env });
  return Buffer.from(format.emit(file)).toString('utf8');
}
