import { ageKind } from './age/descriptor.js';
import { azureKvKind } from './azure-kv/descriptor.js';
import { gcpKmsKind } from './gcp-kms/descriptor.js';
import { hckmsKind } from './hckms/descriptor.js';
import { hcVaultKind } from './hc-vault/descriptor.js';
import type { KeyKind, WrappableKind } from './kind.js';
import { kmsKind } from './kms/descriptor.js';
import { pgpKind } from './pgp/descriptor.js';

/**
 * Every master-key kind tsops knows, one line each. The order is the one
 * flags, environment and config files list keys in; sops's own reading order
 * of stored keys is each kind's `loadRank`.
 */
export const KEY_KINDS = [
  ageKind,
  pgpKind,
  kmsKind,
  gcpKmsKind,
  hckmsKind,
  azureKvKind,
  hcVaultKind,
] as const;

/** The kind whose identities `keygen` and `init` create. */
export const PERSONAL_KIND = ageKind;

type AnyKind = KeyKind<string, any, any, any>;

const byType = new Map<string, AnyKind>(KEY_KINDS.map((kind) => [kind.type, kind]));

/** The kind stored under metadata field `type`; undefined for a name no kind has. */
export function findKeyKind(type: string): AnyKind | undefined {
  return byType.get(type);
}

export function keyKind(type: string): AnyKind {
  const kind = byType.get(type);
  if (!kind) throw new Error(`unknown key kind ${type}`);
  return kind;
}

/** The kinds tsops can encrypt for, with what that takes. */
export function wrappableKinds(): (AnyKind & { keys: WrappableKind<any, any> })[] {
  return KEY_KINDS.filter((kind): kind is (typeof KEY_KINDS)[number] & { keys: WrappableKind<any, any> } => (kind as AnyKind).keys !== undefined);
}

/** The kinds in sops's reading order of one group's keys. */
export const KEY_KINDS_BY_LOAD_RANK: readonly AnyKind[] = [...KEY_KINDS].sort((a, b) => a.loadRank - b.loadRank);
