import { readFileSync } from 'node:fs';
import { ConfigError, TsopsError } from '../errors.js';
import type { KeySpec, MasterKeyType } from '../keys/masterkey.js';
import { KEY_KINDS, PERSONAL_KIND, wrappableKinds } from '../keys/registry.js';
import type { EncryptSettings } from '../sops/index.js';
import type { EncryptionRule } from '../sops/rules.js';
import { escapeControl } from '../escape.js';
import { findConfig } from './find.js';
import { emptyKeyGroup, keyGroupsForRule, type KeyFlagOptions } from './keys.js';
import { parseConfig } from './parse.js';
import { matchCreationRule } from './rules.js';
import type { Config, CreationRule, StoreSettings } from './types.js';
import { splitCommaList } from '../comma-list.js';

/** What the command line says about keys and rules; every field optional. */
export interface KeyFlagValues {
  /** Keys per kind (by its metadata name); each item may hold several comma-separated keys. */
  keys?: Partial<Record<MasterKeyType, string[]>>;
  /** The options qualifying keys per kind, as the kind read them (a KMS profile and encryption context). */
  options?: KeyFlagOptions;
  rule?: EncryptionRule;
  macOnlyEncrypted?: boolean;
  shamirThreshold?: number;
}

export interface ResolveInput {
  /** The file to encrypt, or the --filename-override for stdin. */
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config PATH`. */
  explicitConfig?: string;
  flags: KeyFlagValues;
  /** Config files passed over, unknown fields: one line each. */
  warn?: (message: string) => void;
  /** `--verbose`: which config and creation rule were used. */
  log?: (message: string) => void;
}

export interface ResolvedSettings {
  settings: EncryptSettings;
  configPath?: string;
  stores: StoreSettings;
}

/** Reads and parses a config file; an unreadable file is a ConfigError naming it. */
export async function loadConfig(path: string, warn?: (message: string) => void): Promise<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError(`cannot read config file ${path} (${code})`);
  }
  const config = parseConfig(text, path);
  for (const line of config.warnings ?? []) warn?.(escapeControl(line));
  return config;
}

/**
 * The settings to encrypt a new file with, by sops's precedence: keys from
 * flags or each kind's environment variable (SOPS_..._RECIPIENTS, ...) replace the
 * config's keys entirely; a rule flag replaces the config's rule;
 * --mac-only-encrypted adds to the config's; a non-zero threshold flag
 * overrides the config's.
 */
export async function resolveEncryptSettings(input: ResolveInput): Promise<ResolvedSettings> {
  const { file, cwd, env, flags } = input;
  const { warn, log } = input;
  const configPath = await findConfig({ target: file, cwd, env, ...(input.explicitConfig ? { explicit: input.explicitConfig } : {}), ...(warn ? { warn } : {}) });
  log?.(configPath ? `config: ${escapeControl(configPath)}` : 'config: none found');
  const config = configPath ? await loadConfig(configPath, warn) : undefined;

  let rule: CreationRule | undefined;
  if (config?.creationRules && configPath) {
    rule = matchCreationRule(config, configPath, file, cwd);
    if (!rule) throw new ConfigError(`no creation rule in ${configPath} matches ${file}`);
    log?.(`creation rule: #${rule.index} at line ${rule.line}, ${rule.pathRegex === undefined ? 'no path_regex (matches every file)' : `path_regex ${escapeControl(JSON.stringify(rule.pathRegex))}`}`);
  }

  const cliKeys = keysFromFlagsAndEnv(flags, env);
  if (cliKeys.length && rule) log?.('keys: from the command line or environment, not the creation rule');
  const keyGroups = cliKeys.length ? [cliKeys] : rule && configPath ? aboutTarget(file, () => keyGroupsForRule(rule, configPath, flags.options)) : [];
  if (keyGroups.length === 0 && rule) throw emptyKeyGroup(file);
  if (keyGroups.length === 0) throw noKeysError(file, configPath, config);

  const settings: EncryptSettings = { keyGroups };
  const encryptionRule = flags.rule ?? rule?.rule;
  if (encryptionRule) settings.rule = encryptionRule;
  if (flags.macOnlyEncrypted || rule?.macOnlyEncrypted) settings.macOnlyEncrypted = true;
  const threshold = flags.shamirThreshold ? flags.shamirThreshold : rule?.shamirThreshold;
  if (threshold) {
    checkThreshold(threshold, keyGroups.length, flags.shamirThreshold ? 'the Shamir threshold flag' : `shamir_threshold at ${configPath}:${rule?.line}`);
    settings.shamirThreshold = threshold;
  }
  return { settings, stores: config?.stores ?? {}, ...(configPath ? { configPath } : {}) };
}

/**
 * Keys named on the command line or in sops's environment variables, as one
 * list; a flag beats the variable of its own kind. Empty when there are none.
 */
export function keysFromFlagsAndEnv(flags: KeyFlagValues, env: NodeJS.ProcessEnv): KeySpec[] {
  const pick = (values: string[] | undefined, variable: string): string[] => {
    const fromFlag = (values ?? []).flatMap(splitCommaList);
    return fromFlag.length ? fromFlag : splitCommaList(env[variable]);
  };
  const keys: KeySpec[] = wrappableKinds().flatMap((kind) => pick(flags.keys?.[kind.type as MasterKeyType], kind.env).map((text) => kind.keys.parse(text, flags.options?.[kind.type as MasterKeyType]) as KeySpec));
  // sops would use these instead of the config's keys; silently falling back to the config would encrypt for the wrong people.
  for (const kind of KEY_KINDS) {
    if (!('keys' in kind) && splitCommaList(env[kind.env]).length) throw new ConfigError(`${kind.config.groupField} keys are not supported by tsops (${kind.env} is set)`);
  }
  return keys;
}

/** Runs `make`; an error it throws that names no file is about `file`. */
function aboutTarget<T>(file: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof TsopsError) e.file ??= file;
    throw e;
  }
}

function checkThreshold(threshold: number, groupCount: number, source: string): void {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 255) throw new ConfigError(`${source} must be a whole number from 0 to 255`);
  if (groupCount > 1 && (threshold < 2 || threshold > groupCount)) {
    throw new ConfigError(`${source} is ${threshold}, but with ${groupCount} key groups it must be 2 to ${groupCount}`);
  }
}

function noKeysError(file: string, configPath: string | undefined, config: Config | undefined): ConfigError {
  const searched = !configPath ? 'no config file found (.sopsrc, .sops.yaml)' : `${configPath} has no creation_rules`;
  return new ConfigError(`no keys to encrypt ${file} with: ${searched}; pass --${PERSONAL_KIND.flag}, set ${PERSONAL_KIND.env}, or add a creation rule with keys to .sopsrc`);
}
