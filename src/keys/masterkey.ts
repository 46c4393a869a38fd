/**
 * The one small interface every master-key kind implements. Key groups and
 * Shamir sit above it (src/sops/datakey.ts); a kind only wraps and unwraps one
 * secret (the data key or one Shamir share) for one key.
 */

export type MasterKeyType = 'age' | 'pgp' | 'kms' | 'gcp_kms' | 'azure_kv' | 'hc_vault' | 'hckms';

/** Field values of a stored master key: strings, or a string map (KMS `context`). */
export type KeyFieldValue = string | Record<string, string>;

/**
 * One master key entry as stored in the `sops` metadata block, fields named as
 * sops names them (`recipient`/`enc` for age; `fp`/`created_at`/`enc` for PGP;
 * `arn`/`role`/`context`/`aws_profile`/`created_at`/`enc` for KMS). Kinds tsops
 * cannot use (GCP, Azure, Vault) are kept as read so re-encryption preserves them.
 */
export interface KeyRecord {
  type: MasterKeyType;
  fields: Record<string, KeyFieldValue>;
}

/** A key to encrypt for, as named by flags, environment or config. */
export type KeySpec =
  | { type: 'age'; recipient: string }
  | { type: 'pgp'; fingerprint: string }
  | { type: 'kms'; arn: string; role?: string; context?: Record<string, string>; awsProfile?: string };

/** Where key kinds find identities and tools. Everything defaults to the process's own. */
export interface KeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra age identities (`AGE-SECRET-KEY-1...`), tried before the ones from the environment. */
  ageIdentities?: string[];
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

/** The identity string sops uses to compare keys (rotate --rm-*, updatekeys). */
export function keyIdentity(key: KeySpec | KeyRecord): string {
  if ('fields' in key) return recordIdentity(key);
  switch (key.type) {
    case 'age': return key.recipient;
    case 'pgp': return key.fingerprint;
    case 'kms': return kmsIdentity(key.arn, key.role, key.context, key.awsProfile);
  }
}

function recordIdentity(record: KeyRecord): string {
  const f = (name: string): string => {
    const v = record.fields[name];
    return typeof v === 'string' ? v : '';
  };
  switch (record.type) {
    case 'age': return f('recipient');
    case 'pgp': return f('fp');
    case 'kms': {
      const ctx = record.fields['context'];
      return kmsIdentity(f('arn'), f('role'), typeof ctx === 'object' ? ctx : undefined, f('aws_profile'));
    }
    case 'gcp_kms': return f('resource_id');
    case 'hc_vault': return `${f('vault_address')}/v1/${f('engine_path')}/keys/${f('key_name')}`;
    case 'azure_kv': return `${f('vault_url')}/keys/${f('name')}/${f('version')}`;
    case 'hckms': return f('key_id');
  }
}

function kmsIdentity(arn: string, role?: string, context?: Record<string, string>, profile?: string): string {
  let id = arn;
  if (role) id += `+${role}`;
  const ctx = context ? Object.keys(context).sort().map((k) => `${k}:${context[k]}`) : [];
  if (ctx.length) id += `|${ctx.join(',')}`;
  if (profile) id += `|${profile}`;
  return id;
}
