import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { formatForPath, parseFormatName } from '../formats/format.js';
import { STORES, unnamedStore } from '../formats/registry.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { KEY_KINDS } from '../keys/registry.js';
import { addKeyFlags } from './key-flags.js';
import type { EncryptionRule } from '../sops/rules.js';
import type { FormatName } from '../tree.js';
import { splitCommaList } from '../comma-list.js';

/** Flags shared by the commands that read or write encrypted files, spelled as sops spells them. */
export interface CommonFlags {
  inputType?: string;
  outputType?: string;
  indent?: string;
  ignoreMac?: boolean;
  decryptionOrder?: string;
  filenameOverride?: string;
  config?: string;
  verbose?: boolean;
}

/** The key flags (`--age`, `--kms`, their options: src/cli/key-flags.ts) and the rule flags. */
export interface KeyFlags {
  [keyFlag: string]: unknown;
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: string;
  encryptedRegex?: string;
  unencryptedCommentRegex?: string;
  encryptedCommentRegex?: string;
  macOnlyEncrypted?: boolean;
  shamirSecretSharingThreshold?: string;
}

/** The common flags by long name. */
export type CommonOption = 'input-type' | 'output-type' | 'indent' | 'ignore-mac' | 'decryption-order' | 'filename-override' | 'config' | 'verbose';

const COMMON_OPTIONS: readonly [CommonOption, string, string][] = [
  ['input-type', '--input-type <type>', 'input format: yaml, json, dotenv, ini or binary (default: from the file name)'],
  ['output-type', '--output-type <type>', 'output format (default: the input format)'],
  ['indent', '--indent <n>', 'indentation of YAML and JSON output'],
  ['ignore-mac', '--ignore-mac', 'do not check the MAC (recover a damaged file)'],
  ['decryption-order', '--decryption-order <types>', 'order in which to try master key types, e.g. age,pgp (env SOPS_DECRYPTION_ORDER)'],
  ['filename-override', '--filename-override <path>', 'name to use for format detection and config matching (stdin)'],
  ['config', '--config <path>', 'config file to use instead of searching for .sopsrc / .sops.yaml'],
  ['verbose', '--verbose', 'more output on stderr'],
];

/**
 * Adds the flags sops accepts on every file command. The ones a command has no
 * use for (`unused`) are still accepted, as sops accepts them, but left out of
 * its help so the help lists only what changes something.
 */
export function addCommonOptions(cmd: Command, unused: readonly CommonOption[] = []): Command {
  for (const [name, flags, description] of COMMON_OPTIONS) {
    if (unused.includes(name)) cmd.addOption(cmd.createOption(flags, description).hideHelp());
    else cmd.option(flags, description);
  }
  return cmd;
}

export function addKeyOptions(cmd: Command): Command {
  return addKeyFlags(cmd)
    .option('--unencrypted-suffix <suffix>', 'keys ending with this stay plaintext (default _unencrypted)')
    .option('--encrypted-suffix <suffix>', 'only keys ending with this are encrypted')
    .option('--unencrypted-regex <regex>', 'keys matching this stay plaintext')
    .option('--encrypted-regex <regex>', 'only keys matching this are encrypted')
    .option('--unencrypted-comment-regex <regex>', 'values under a comment matching this stay plaintext')
    .option('--encrypted-comment-regex <regex>', 'only values under a comment matching this are encrypted')
    .option('--mac-only-encrypted', 'compute the MAC over encrypted values only')
    .option('--shamir-secret-sharing-threshold <n>', 'key groups needed to decrypt');
}


export function inputFormat(flags: CommonFlags, file: string | undefined): FormatName {
  if (flags.inputType) return formatName(flags.inputType, '--input-type');
  const name = file && file !== '-' ? file : flags.filenameOverride;
  return name ? formatForPath(name) : unnamedStore().name;
}

export function outputFormat(flags: CommonFlags, input: FormatName): FormatName {
  return flags.outputType ? formatName(flags.outputType, '--output-type') : input;
}

function formatName(value: string, flag: string): FormatName {
  const name = parseFormatName(value);
  if (!name) throw new UsageError(`${flag} must be one of ${STORES.map((s) => s.name).join(', ')} (not ${JSON.stringify(value)})`, 'bad-usage');
  return name;
}

export function indentOf(flags: CommonFlags): number | undefined {
  if (flags.indent === undefined) return undefined;
  const n = Number(flags.indent);
  if (!Number.isInteger(n)) throw new UsageError(`--indent must be a whole number`, 'bad-usage');
  return n;
}

const ORDERABLE: readonly string[] = KEY_KINDS.map((kind) => kind.type);

export function decryptionOrder(flags: CommonFlags, env: NodeJS.ProcessEnv): MasterKeyType[] | undefined {
  const text = flags.decryptionOrder ?? env['SOPS_DECRYPTION_ORDER'];
  if (!text) return undefined;
  const types = splitCommaList(text);
  for (const t of types) if (!ORDERABLE.includes(t)) throw new UsageError(`unknown key type in decryption order: ${t}`, 'bad-usage');
  if (new Set(types).size !== types.length) throw new UsageError('a key type is repeated in the decryption order', 'duplicate-key-type');
  return types as MasterKeyType[];
}

export function keyOptions(flags: CommonFlags, env: NodeJS.ProcessEnv, log?: (line: string) => void): KeyOptions {
  return flags.verbose && log ? { env, log } : { env };
}

/** The one encryption rule the flags set, if any (more than one is sops's exit 8). */
export function ruleFromFlags(flags: KeyFlags): EncryptionRule | undefined {
  const rules: EncryptionRule[] = [];
  const add = (kind: EncryptionRule['kind'], value: string | undefined): void => {
    if (value !== undefined && value !== '') rules.push({ kind, value });
  };
  add('unencrypted_suffix', flags.unencryptedSuffix);
  add('encrypted_suffix', flags.encryptedSuffix);
  add('unencrypted_regex', flags.unencryptedRegex);
  add('encrypted_regex', flags.encryptedRegex);
  add('unencrypted_comment_regex', flags.unencryptedCommentRegex);
  add('encrypted_comment_regex', flags.encryptedCommentRegex);
  if (rules.length > 1) throw new UsageError('only one of the --*-suffix and --*-regex flags can be used');
  return rules[0];
}

export function thresholdFromFlags(flags: KeyFlags): number | undefined {
  if (flags.shamirSecretSharingThreshold === undefined) return undefined;
  const n = Number(flags.shamirSecretSharingThreshold);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new UsageError('--shamir-secret-sharing-threshold must be a number from 0 to 255', 'bad-usage');
  return n || undefined;
}
