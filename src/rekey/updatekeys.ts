import { readFileSync } from 'node:fs';
import { findConfig, keyGroupsForRule, loadConfig, matchCreationRule } from '../config/index.js';
import { ConfigError, TsopsError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { keyIdentity, type KeyOptions, type KeySpec } from '../keys/masterkey.js';
import { OpenedFile } from '../sops/opened-file.js';
import { groupsNeeded } from '../sops/shamir.js';
import { readMetadata } from '../sops/metadata.js';

export interface KeyDiff {
  /** Per group: identities added and removed. */
  groups: { added: string[]; removed: string[] }[];
  changed: boolean;
  /** The rule asks for another Shamir threshold than the file has. */
  thresholdChanged: boolean;
  removes: boolean;
}

export interface UpdatePlan {
  file: string;
  configPath: string;
  want: KeySpec[][];
  /** The rule's Shamir threshold; 0 means every group, as sops reads an unset one. */
  threshold: number;
  diff: KeyDiff;
}

/** What updatekeys would change in `file` to match its creation rule (see docs/config.md). */
export async function planUpdate(file: string, cwd: string, env: NodeJS.ProcessEnv, explicitConfig?: string, warn?: (message: string) => void): Promise<UpdatePlan> {
  const configPath = await findConfig({ target: file, cwd, env, ...(explicitConfig ? { explicit: explicitConfig } : {}), ...(warn ? { warn } : {}) });
  if (!configPath) throw new ConfigError('no .sopsrc or .sops.yaml found for this file', { file });
  const config = await loadConfig(configPath, warn);
  const rule = matchCreationRule(config, configPath, file, cwd);
  if (!rule) throw new ConfigError(`no creation rule in ${configPath} matches this file`, { file });
  const want = keyGroupsForRule(rule, configPath);
  const { parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  if (!parsed.metadata) throw new TsopsError('not encrypted', 'not-encrypted', { file });
  const metadata = readMetadata(parsed.metadata);
  const have = metadata.keyGroups.map((g) => g.map(keyIdentity));
  const threshold = rule.shamirThreshold ?? 0;
  // A file's threshold counts only with several groups; "every group" may be stored as the group count.
  const effective = (t: number, groups: number): number => (groups > 1 ? groupsNeeded(t, groups) : 0);
  const groups: KeyDiff['groups'] = [];
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const h = new Set(have[i] ?? []);
    const w = new Set((want[i] ?? []).map(keyIdentity));
    groups.push({ added: [...w].filter((k) => !h.has(k)), removed: [...h].filter((k) => !w.has(k)) });
  }
  const thresholdChanged = effective(threshold, want.length) !== effective(metadata.shamirThreshold ?? 0, have.length);
  const changed = groups.some((g) => g.added.length || g.removed.length) || thresholdChanged;
  return { file, configPath, want, threshold, diff: { groups, changed, thresholdChanged, removes: groups.some((g) => g.removed.length > 0) || want.length !== have.length } };
}

export function describeDiff(plan: UpdatePlan, display: string): string {
  const lines = [`${display}:`];
  plan.diff.groups.forEach((g, i) => {
    if (!g.added.length && !g.removed.length) return;
    lines.push(`  group ${i + 1}:`);
    for (const k of g.added) lines.push(`    + ${k}`);
    for (const k of g.removed) lines.push(`    - ${k}`);
  });
  if (plan.diff.thresholdChanged) lines.push(`  shamir threshold: ${plan.threshold > 0 ? plan.threshold : 'every group'}`);
  return lines.join('\n');
}

/**
 * Applies a plan. Adding keys only re-wraps the existing data key (values and
 * MAC untouched). Removing any key rotates the data key unless `noRotate`, so
 * the removed key cannot read what is written from now on.
 */
export async function applyUpdate(plan: UpdatePlan, options: { keys: KeyOptions; noRotate?: boolean }): Promise<'rotated' | 'rewrapped'> {
  const bytes = readFileSync(plan.file);
  const { format, parsed } = await readStore(bytes, formatForPath(plan.file), { file: plan.file, needMetadata: true });
  const rotate = plan.diff.removes && !options.noRotate;
  using opened = await OpenedFile.open(parsed, { keys: options.keys, keepIvs: rotate });
  if (rotate) {
    await opened.rotate({ groups: plan.want, shamirThreshold: plan.threshold }, options.keys);
    opened.reseal();
    await writeFileAtomic(plan.file, format.emit(opened.file));
    return 'rotated';
  }
  const untouched = format.parse(bytes, { file: plan.file });
  untouched.metadata = await opened.rewrap(plan.want, plan.threshold, options.keys);
  await writeFileAtomic(plan.file, format.emit(untouched));
  return 'rewrapped';
}
