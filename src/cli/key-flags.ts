import type { Command } from 'commander';
import type { KeyFlagOptions } from '../config/keys.js';
import type { KeySpec, MasterKeyType } from '../keys/masterkey.js';
import { KEY_KINDS, wrappableKinds } from '../keys/registry.js';
import { splitCommaList } from '../comma-list.js';

/** The command-line spellings of the key kinds, from the registry: `--NAME`, `--add-NAME`, `--rm-NAME` and their options. */

/** The attribute commander stores `--add-gcp-kms` under: `addGcpKms`. */
export function attributeOf(flag: string): string {
  return flag.replace(/^-+/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

type FlagValues = Readonly<Record<string, unknown>>;

const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const split = (values: string[]): string[] => values.flatMap(splitCommaList);

function addQualifyingOptions(cmd: Command): Command {
  for (const kind of wrappableKinds()) for (const option of kind.keys.help.options ?? []) cmd.option(option.flag, option.help);
  return cmd;
}

/** `--age`, `--pgp`, `--kms`, ... to encrypt for, each followed by the options qualifying its keys. */
export function addKeyFlags(cmd: Command): Command {
  for (const kind of wrappableKinds()) {
    const { short, placeholder, encrypt, options } = kind.keys.help;
    cmd.option(`${short ? `${short}, ` : ''}--${kind.flag} <${placeholder}>`, encrypt);
    for (const option of options ?? []) cmd.option(option.flag, option.help);
  }
  return cmd;
}

/** `rotate --add-NAME` / `--rm-NAME` for every kind tsops can encrypt for. */
export function addRotateFlags(cmd: Command): Command {
  for (const kind of wrappableKinds()) {
    cmd.option(`--add-${kind.flag} <${kind.keys.help.placeholder}>`, kind.keys.help.add);
    cmd.option(`--rm-${kind.flag} <${kind.keys.help.placeholder}>`, kind.keys.help.remove);
  }
  return cmd;
}

/** `groups add --NAME KEY` (repeatable, comma-separated lists allowed) and the kinds' qualifying options. */
export function addGroupKeyFlags(cmd: Command): Command {
  const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];
  for (const kind of wrappableKinds()) cmd.option(`--${kind.flag} <${kind.keys.help.placeholder.replace(/s$/, '')}>`, kind.keys.help.group, repeat);
  return addQualifyingOptions(cmd);
}

/** The sops flags that change master keys (`--add-age`, `--rm-gcp-kms`, ...), also of kinds tsops only keeps as read. */
export function isKeyChangeFlag(arg: string): boolean {
  const name = arg.split('=')[0]!;
  return KEY_KINDS.some((kind) => name === `--add-${kind.flag}` || name === `--rm-${kind.flag}`);
}

/** Each kind's qualifying options as the kind reads them (a malformed one fails here, with its exit code). */
export function keyFlagOptions(flags: FlagValues): KeyFlagOptions {
  const options: KeyFlagOptions = {};
  for (const kind of wrappableKinds()) {
    const given: Record<string, string | undefined> = {};
    for (const option of kind.keys.help.options ?? []) {
      const v = flags[option.attribute];
      if (typeof v === 'string') given[option.attribute] = v;
    }
    const read = kind.keys.readOptions?.(given);
    if (read !== undefined) options[kind.type as MasterKeyType] = read;
  }
  return options;
}

/** The values of `--NAME` per kind, as given (each may hold several comma-separated keys). */
export function keyFlagValues(flags: FlagValues, prefix = ''): Partial<Record<MasterKeyType, string[]>> {
  const keys: Partial<Record<MasterKeyType, string[]>> = {};
  for (const kind of wrappableKinds()) {
    const values = list(flags[attributeOf(`${prefix}${kind.flag}`)]).filter(Boolean);
    if (values.length) keys[kind.type as MasterKeyType] = values;
  }
  return keys;
}

/** The keys named by `--NAME` (or `--add-NAME`) flags, lists split at commas, with the kinds' options. */
export function keysFromFlags(flags: FlagValues, prefix = '', options: KeyFlagOptions = {}): KeySpec[] {
  const given = keyFlagValues(flags, prefix);
  return wrappableKinds().flatMap((kind) => split(given[kind.type as MasterKeyType] ?? []).map((text) => kind.keys.parse(text, options[kind.type as MasterKeyType]) as KeySpec));
}

/** The identities `rotate --rm-NAME` names, as sops compares them. */
export function removedIdentities(flags: FlagValues): string[] {
  const given = keyFlagValues(flags, 'rm-');
  return wrappableKinds().flatMap((kind) => split(given[kind.type as MasterKeyType] ?? []).map((text) => kind.keys.identity(kind.keys.parse(text, undefined))));
}

/** Names every flag spelling, for messages: `--age, --pgp or --kms`. */
export function keyFlagList(): string {
  const names = wrappableKinds().map((kind) => `--${kind.flag}`);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');
}
