import { ConfigError, TsopsError } from '../errors.js';
import { keyIdentity, type KeySpec } from '../keys/masterkey.js';
import type { CreationRule, KeyGroupConfig, KmsKeyConfig } from './types.js';

/**
 * The key groups a creation rule names: its `key_groups` when it has any
 * (the flat keys are then ignored, as in sops), else its flat keys as one
 * group in the order age, pgp, kms. `encryptionContext` applies to flat KMS
 * keys only; group KMS keys carry their own `context`. Kinds tsops cannot
 * wrap for are an error, but only in the part of the rule that is used.
 */
export function keyGroupsForRule(rule: CreationRule, configPath: string, encryptionContext?: Record<string, string>): KeySpec[][] {
  if (rule.keyGroups.length > 0) {
    const groups = rule.keyGroups.map((group) => groupKeys(group, configPath));
    if (groups.some((group) => group.length === 0)) throw emptyKeyGroup();
    return groups;
  }
  const at = `${configPath}:${rule.line}`;
  rejectUnsupported(at, [
    ['gcp_kms', rule.gcpKms.length],
    ['hckms', rule.hckms.length],
    ['azure_keyvault', rule.azureKeyvault.length],
    ['hc_vault_transit_uri', rule.hcVaultTransitUri.length],
  ]);
  const keys: KeySpec[] = [
    ...rule.age.map(ageKey),
    ...rule.pgp.map(pgpKey),
    ...rule.kms.map((kms) => kmsKey({ ...kms, ...(rule.awsProfile ? { awsProfile: rule.awsProfile } : {}), ...(encryptionContext ? { context: encryptionContext } : {}) })),
  ];
  return keys.length ? [keys] : [];
}

/**
 * A rule whose key group has no keys (`key_groups: [{}]`, or `key_groups: []`
 * or no keys at all, which sops reads as one empty group): sops loads such a
 * config and fails only when a file needs the rule, with this message.
 */
export function emptyKeyGroup(file?: string): TsopsError {
  return new TsopsError('Could not generate data key: [empty key group provided]', 'failed', file === undefined ? undefined : { file });
}

/** One configured group's keys: merged groups first, then its own; repeats removed. */
function groupKeys(group: KeyGroupConfig, configPath: string): KeySpec[] {
  const keys = collect(group, configPath);
  const seen = new Set<string>();
  return keys.filter((key) => {
    const id = `${key.type}\u0000${keyIdentity(key)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function collect(group: KeyGroupConfig, configPath: string): KeySpec[] {
  rejectUnsupported(`${configPath}:${group.line}`, [
    ['gcp_kms', group.gcpKms.length],
    ['hckms', group.hckms.length],
    ['azure_keyvault', group.azureKeyvault.length],
    ['hc_vault', group.hcVault.length],
  ]);
  return [
    ...group.merge.flatMap((nested) => collect(nested, configPath)),
    ...group.age.map(ageKey),
    ...group.pgp.map(pgpKey),
    ...group.kms.map(kmsKey),
  ];
}

function rejectUnsupported(at: string, kinds: [string, number][]): void {
  const used = kinds.find(([, count]) => count > 0);
  if (used) throw new ConfigError(`${at}: ${used[0]} keys are not supported by tsops`);
}

export function ageKey(recipient: string): KeySpec {
  return { type: 'age', recipient };
}

export function pgpKey(fingerprint: string): KeySpec {
  return { type: 'pgp', fingerprint: fingerprint.replace(/\s+/g, '') };
}

export function kmsKey(kms: KmsKeyConfig): KeySpec {
  const spec: KeySpec = { type: 'kms', arn: kms.arn };
  if (kms.role) spec.role = kms.role;
  if (kms.context && Object.keys(kms.context).length) spec.context = { ...kms.context };
  if (kms.awsProfile) spec.awsProfile = kms.awsProfile;
  return spec;
}
