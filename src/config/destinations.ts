import { ConfigError } from '../errors.js';
import { compileRe2 } from '../regex/re2.js';
import { pathForMatching } from './rules.js';
import type { Config, CreationRule, DestinationRule } from './types.js';

/** Where `publish` sends a file, as one destination rule describes it. */
export type Destination =
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'gcs'; bucket: string; prefix: string }
  | { kind: 'vault'; address?: string; path: string; mount: string; kvVersion: 1 | 2 };

export interface MatchedDestination {
  rule: DestinationRule;
  /** Undefined when the rule names no destination (sops: "no destination configured for this file"). */
  destination?: Destination;
  recreationRule?: CreationRule;
  omitExtensions: boolean;
}

/**
 * The first destination rule that applies to `file`, as sops picks it: a rule
 * without `path_regex` matches every file, otherwise the regex (RE2) must
 * find a match in the path relative to the config's directory.
 */
export function matchDestinationRule(config: Config, configPath: string, file: string, cwd: string): MatchedDestination {
  const path = pathForMatching(configPath, file, cwd);
  const rule = config.destinationRules.find((r) => !r.pathRegex || compileRe2(r.pathRegex).test(path));
  if (!rule) throw new ConfigError('error loading config: no matching destination found in config', { file });
  const at = `destination_rules[${rule.index}] (${configPath}:${rule.line})`;
  const named = [rule.s3Bucket, rule.gcsBucket, rule.vaultPath].filter(Boolean).length;
  if (named > 1) throw new ConfigError(`${at}: more than one destinations were found in a single destination rule, you can only use one per rule`, { file });
  const fields: [string, string | undefined][] = [
    ['s3_bucket', rule.s3Bucket], ['s3_prefix', rule.s3Prefix], ['gcs_bucket', rule.gcsBucket], ['gcs_prefix', rule.gcsPrefix],
    ['vault_path', rule.vaultPath], ['vault_address', rule.vaultAddress], ['vault_kv_mount_name', rule.vaultKvMountName],
  ];
  for (const [name, value] of fields) {
    if (value !== undefined && /[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError(`${at}: ${name} holds a control character`, { file });
  }
  if (rule.vaultAddress && !/^https?:\/\/[^/?#]+\/?$/i.test(rule.vaultAddress)) throw new ConfigError(`${at}: vault_address must be an http:// or https:// server address`, { file });
  const matched: MatchedDestination = { rule, omitExtensions: rule.omitExtensions };
  if (rule.recreationRule) matched.recreationRule = rule.recreationRule;
  const destination = destinationOf(rule);
  if (destination) matched.destination = destination;
  return matched;
}

function destinationOf(rule: DestinationRule): Destination | undefined {
  if (rule.s3Bucket) return { kind: 's3', bucket: rule.s3Bucket, prefix: rule.s3Prefix ?? '' };
  if (rule.gcsBucket) return { kind: 'gcs', bucket: rule.gcsBucket, prefix: rule.gcsPrefix ?? '' };
  if (!rule.vaultPath) return undefined;
  // sops's defaults: a trailing slash on path and mount, mount `secret/`, and KV version 2 unless 1 is asked for.
  const slash = (s: string): string => (s.endsWith('/') ? s : `${s}/`);
  const vault: Destination = { kind: 'vault', path: slash(rule.vaultPath), mount: slash(rule.vaultKvMountName || 'secret/'), kvVersion: rule.vaultKvVersion === 1 ? 1 : 2 };
  if (rule.vaultAddress) vault.address = rule.vaultAddress;
  return vault;
}

/** The Vault API path (after `/v1/`) of a file's secret. */
export function vaultSecretPath(d: Extract<Destination, { kind: 'vault' }>, fileName: string): string {
  return d.kvVersion === 1 ? `${d.mount}${d.path}${fileName}` : `${d.mount}data/${d.path}${fileName}`;
}

/** How sops names a destination in its prompt: `s3://bucket/prefixfile`, `gcs://...`, or the Vault URL. */
export function destinationUrl(d: Destination, fileName: string, vaultAddress: string): string {
  if (d.kind === 'vault') return `${vaultAddress}/v1/${vaultSecretPath(d, fileName)}`;
  return `${d.kind}://${d.bucket}/${d.prefix}${fileName}`;
}
