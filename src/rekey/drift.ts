import { findConfig, keyGroupsForRule, loadConfig, matchCreationRule } from '../config/index.js';
import { escapeControl } from '../escape.js';
import { keyIdentity } from '../keys/masterkey.js';
import { readMetadata } from '../sops/metadata.js';
import type { MapNode } from '../tree.js';

export interface KeyDrift {
  /** Keys in the file that its creation rule does not name: someone added them, perhaps by editing the metadata. */
  extra: string[];
  /** Keys the rule names that the file lacks. */
  missing: string[];
  configPath: string;
  line: number;
}

/**
 * How the master keys in a file's metadata differ from its creation rule's,
 * ignoring group boundaries. Undefined when they agree, or when there is no
 * config, no matching rule, or the rule cannot be used: the caller does not
 * need a config, so this check never makes it fail.
 */
export async function keyDrift(
  file: string,
  metadata: MapNode | undefined,
  options: { cwd: string; env: NodeJS.ProcessEnv; explicitConfig?: string; warn?: (message: string) => void },
): Promise<KeyDrift | undefined> {
  try {
    const configPath = await findConfig({ target: file, cwd: options.cwd, env: options.env, ...(options.explicitConfig ? { explicit: options.explicitConfig } : {}), ...(options.warn ? { warn: options.warn } : {}) });
    if (!configPath || !metadata) return undefined;
    const config = await loadConfig(configPath);
    const rule = matchCreationRule(config, configPath, file, options.cwd);
    if (!rule) return undefined;
    const want = new Set(keyGroupsForRule(rule, configPath).flat().map(keyIdentity));
    const have = new Set(readMetadata(metadata).keyGroups.flat().map(keyIdentity));
    const extra = [...have].filter((k) => !want.has(k));
    const missing = [...want].filter((k) => !have.has(k));
    return extra.length || missing.length ? { extra, missing, configPath, line: rule.line } : undefined;
  } catch {
    return undefined;
  }
}

/** The one-line warning for a drift, every name escaped. */
export function describeDrift(display: string, drift: KeyDrift): string {
  const list = (keys: string[]) => (keys.length ? keys.map(escapeControl).join(', ') : 'none');
  return `${escapeControl(display)}: master keys differ from its creation rule (${escapeControl(drift.configPath)}:${drift.line}): not in the rule: ${list(drift.extra)}; missing: ${list(drift.missing)}; rotate keeps them as they are, \`updatekeys\` applies the rule`;
}
