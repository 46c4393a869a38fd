import { ConfigError } from '../errors.js';
import type { EncryptSettings } from '../sops/index.js';
import type { CliContext } from './context.js';
import { keysFromFlags, ruleFromFlags, thresholdFromFlags, type CommonFlags, type KeyFlags } from './options.js';

/**
 * The keys and rules to encrypt `file` with: flags and sops's environment
 * variables first (they replace the config's keys, as in sops).
 */
export async function resolveEncryptSettings(file: string, flags: CommonFlags & KeyFlags, ctx: CliContext): Promise<{ settings: EncryptSettings; indent?: number }> {
  const keys = keysFromFlags(flags, ctx.env);
  const rule = ruleFromFlags(flags);
  const threshold = thresholdFromFlags(flags);
  if (keys.length === 0) {
    throw new ConfigError(`no keys to encrypt ${file} for: pass --age or --pgp, or set SOPS_AGE_RECIPIENTS`, { file });
  }
  const settings: EncryptSettings = { keyGroups: [keys] };
  if (rule) settings.rule = rule;
  if (flags.macOnlyEncrypted) settings.macOnlyEncrypted = true;
  if (threshold) settings.shamirThreshold = threshold;
  return { settings };
}
