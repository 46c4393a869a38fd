/**
 * The one small interface every master-key kind implements. Key groups and
 * Shamir sit above it (src/sops/datakey.ts); a kind only wraps and unwraps one
 * secret (the data key or one Shamir share) for one key.
 */
import { keyKind, type KEY_KINDS } from './registry.js';

type RegisteredKind = (typeof KEY_KINDS)[number];

/** The metadata field names of the registered kinds (`age`, `pgp`, `kms`, ...). */
export type MasterKeyType = RegisteredKind['type'];

/** Field values of a stored master key: strings, or a string map (KMS `context`). */
export type KeyFieldValue = string | Record<string, string>;

/**
 * One master key entry as stored in the `sops` metadata block, fields named as
 * sops names them. Kinds tsops cannot use are kept as read so re-encryption
 * preserves them.
 */
export interface KeyRecord {
  type: MasterKeyType;
  fields: Record<string, KeyFieldValue>;
}

/** A key to encrypt for, as named by flags, environment or config: one of the registered kinds' specs. */
export type KeySpec = RegisteredKind extends infer K ? (K extends { keys: { identity(spec: infer S): string } } ? S : never) : never;

/** Where key kinds find identities and tools. Everything defaults to the process's own. */
export interface KeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra identities per kind (by type), tried before the ones from the environment. */
  identities?: Partial<Record<MasterKeyType, string[]>>;
  /** Verbose diagnostics (SDK chatter) are written here when set. */
  log?: (line: string) => void;
  /** When set, receives the identity of each master key that unwrapped a data key (for the audit log). */
  unwrappedBy?: string[];
}

export interface MasterKeyKind {
  readonly type: MasterKeyType;
  /** Encrypt `secret` for the key in `spec`; the record is what goes into the metadata. */
  wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord>;
  /**
   * Decrypt the secret held in `record`. Throws an Error whose message says why
   * (no identity for this recipient, gpg failed, access denied), never the secret.
   */
  unwrap(record: KeyRecord): Promise<Uint8Array>;
}

/** The identity string sops uses to compare keys (rotate --rm-*, updatekeys, status). */
export function keyIdentity(key: KeySpec | KeyRecord): string {
  const kind = keyKind(key.type);
  if ('fields' in key) return kind.record.identity(key);
  return kind.keys!.identity(key);
}
