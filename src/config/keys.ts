import { ConfigError, TsopsError } from '../errors.js';
import { keyIdentity, type KeySpec, type MasterKeyType } from '../keys/masterkey.js';
import type { KeyKind } from '../keys/kind.js';
import { KEY_KINDS } from '../keys/registry.js';
import type { ConfiguredKeys, CreationRule, KeyGroupConfig } from './types.js';

/** The command-line options qualifying keys, per kind (`--encryption-context` for KMS), as each kind read them. */
export type KeyFlagOptions = Partial<Record<MasterKeyType, unknown>>;

/**
 * The key groups a creation rule names: its `key_groups` when it has any
 * (the flat keys are then ignored, as in sops), else its flat keys as one
 * group in the registry's order. Flat keys take the command line's options of
 * their kind (a KMS encryption context); group keys carry their own. Kinds
 * tsops cannot wrap for are an error, but only in the part of the rule that is used.
 */
export function keyGroupsForRule(rule: CreationRule, configPath: string, flagOptions: KeyFlagOptions = {}): KeySpec[][] {
  if (rule.keyGroups.length > 0) {
    const groups = rule.keyGroups.map((group) => groupKeys(group, configPath));
    if (groups.some((group) => group.length === 0)) throw emptyKeyGroup();
    return groups;
  }
  const keys = specs(rule.keys, `${configPath}:${rule.line}`, (kind) => kind.config.ruleFields[0]!, flagOptions);
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
  const own = specs(group.keys, `${configPath}:${group.line}`, (kind) => kind.config.groupField, {});
  return [...group.merge.flatMap((nested) => collect(nested, configPath)), ...own];
}

type Kind = KeyKind;
const KINDS: readonly Kind[] = KEY_KINDS;

/** The specs for configured keys, kinds in registry order; a kind tsops cannot wrap for is an error naming its field. */
function specs(keys: ConfiguredKeys, at: string, fieldName: (kind: Kind) => string, flagOptions: KeyFlagOptions): KeySpec[] {
  const entriesOf = (kind: Kind): unknown[] => (keys as Record<string, unknown[] | undefined>)[kind.type] ?? [];
  const unsupported = KINDS.find((kind) => !kind.config.toSpec && entriesOf(kind).length > 0);
  if (unsupported) throw new ConfigError(`${at}: ${fieldName(unsupported)} keys are not supported by tsops`);
  return KINDS.flatMap((kind) => {
    const toSpec = kind.config.toSpec as ((entry: unknown, options: unknown) => KeySpec) | undefined;
    return toSpec ? entriesOf(kind).map((entry) => toSpec(entry, flagOptions[kind.type as MasterKeyType])) : [];
  });
}
