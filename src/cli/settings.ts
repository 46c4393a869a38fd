import { resolveEncryptSettings as resolveFromConfig, type KeyFlagValues, type StoreSettings } from '../config/index.js';
import type { EncryptSettings } from '../sops/index.js';
import { storeNamed } from '../formats/registry.js';
import type { FormatName } from '../tree.js';
import { warn, type CliContext } from './context.js';
import { keyFlagOptions, keyFlagValues as keysGiven } from './key-flags.js';
import { ruleFromFlags, thresholdFromFlags, type CommonFlags, type KeyFlags } from './options.js';

/**
 * The keys and rules to encrypt `file` with: the nearest `.sopsrc` /
 * `.sops.yaml` creation rule, with sops's precedence for flags and
 * environment variables (src/config/resolve.ts).
 */
export async function resolveEncryptSettings(file: string, flags: CommonFlags & KeyFlags, ctx: CliContext): Promise<{ settings: EncryptSettings; stores: StoreSettings; configPath?: string }> {
  return resolveFromConfig({
    file,
    cwd: ctx.cwd,
    env: ctx.env,
    ...(flags.config ? { explicitConfig: flags.config } : {}),
    flags: keyFlagValues(flags),
    warn: (message) => warn(ctx, message),
    ...(flags.verbose ? { log: (message: string) => ctx.stderr.write(`tsops: ${message}\n`) } : {}),
  });
}

/** The key and rule flags in the shape the config resolver takes. */
export function keyFlagValues(flags: KeyFlags): KeyFlagValues {
  const values: KeyFlagValues = {};
  const keys = keysGiven(flags);
  if (Object.keys(keys).length) values.keys = keys;
  const options = keyFlagOptions(flags);
  if (Object.keys(options).length) values.options = options;
  const rule = ruleFromFlags(flags);
  if (rule) values.rule = rule;
  if (flags.macOnlyEncrypted) values.macOnlyEncrypted = true;
  const threshold = thresholdFromFlags(flags);
  if (threshold) values.shamirThreshold = threshold;
  return values;
}

/** The indent for output: --indent, else the config's store setting for that format. */
export function storeIndent(stores: StoreSettings, format: FormatName, flagIndent: number | undefined): number | undefined {
  if (flagIndent !== undefined) return flagIndent;
  const { config } = storeNamed(format);
  return config.indent ? stores[config.key]?.indent : undefined;
}
