/**
 * Decrypted documents turned into environment variables, as sops's exec-env
 * does: the top-level items of the first document, strings raw, other scalars
 * through ValToString. Nested values are refused unless flattening is asked
 * for, so no secret is ever dropped without a word.
 */
import { TsopsError } from '../errors.js';
import { KEY_KINDS } from '../keys/registry.js';
import { valueToString } from '../values.js';
import type { MapNode, Node } from '../tree.js';
import type { Provenance } from './provenance.js';

/** Variable name to value, in the order the file lists them. */
export type SecretVariables = Map<string, string>;

export interface SecretVariableOptions {
  /**
   * Turn nested maps and lists into one variable per leaf, the path joined
   * with `_` as written: `db: {user: x}` gives `db_user`, `hosts: [a]` gives
   * `hosts_0`. Without it a nested value is an error naming its key.
   */
  flatten?: boolean;
  /** Named in error messages. */
  file?: string;
  /** Which values the MAC does not cover (see provenance.ts). Default: all covered. */
  provenance?: Provenance;
  /** Take plaintext values of a mac_only_encrypted file, which the MAC does not cover. */
  allowUnauthenticated?: boolean;
  /** Let an empty value (never in the MAC) replace another value of the same name. */
  allowEmptyOverride?: boolean;
  /** Filled with the names whose value is empty and so unauthenticated, each with its file. */
  empties?: EmptyValues;
}

/** Variables whose value is empty, which the MAC cannot cover: name to the file that set it. */
export type EmptyValues = Map<string, string | undefined>;

export const ALLOW_EMPTY_OVERRIDE_HINT = '--allow-empty-override allows it';
export const ALLOW_UNAUTHENTICATED_HINT = '--allow-unauthenticated allows it';

/** Thrown for a document that cannot become environment variables; exit 1, as sops. */
export class EnvironmentError extends TsopsError {
  constructor(message: string, file?: string) {
    super(message, 'failed', file === undefined ? undefined : { file });
  }
}

/**
 * The variables one decrypted document yields. Comments are skipped; null
 * becomes the empty string (the variable is set, as the key is present);
 * a key repeated in the file takes its last value, as in sops.
 */
export function secretVariables(document: MapNode | undefined, options: SecretVariableOptions = {}): SecretVariables {
  const out: SecretVariables = new Map();
  if (!document) return out;
  for (const item of document.items) {
    if (item.kind !== 'entry') continue;
    if (item.value.kind === 'scalar') {
      setVariable(out, item.key, item.value, options);
    } else if (options.flatten) {
      const flat: SecretVariables = new Map();
      flattenInto(flat, item.key, item.value, options);
      for (const [name, value] of flat) {
        if (out.has(name)) throw new EnvironmentError(`flattening key ${quote(item.key)} gives ${quote(name)}, which the file already sets`, options.file);
        out.set(name, value);
      }
    } else {
      const what = item.value.kind === 'map' ? 'a map' : 'a list';
      throw new EnvironmentError(`key ${quote(item.key)} holds ${what}, which cannot be an environment variable (--flatten makes one variable per leaf)`, options.file);
    }
  }
  return out;
}

function flattenInto(out: SecretVariables, prefix: string, node: Node, options: SecretVariableOptions): void {
  if (node.kind === 'scalar') {
    if (out.has(prefix)) throw new EnvironmentError(`two values flatten to the same variable ${quote(prefix)}`, options.file);
    setVariable(out, prefix, node, options);
    return;
  }
  if (node.kind === 'map') {
    for (const item of node.items) if (item.kind === 'entry') flattenInto(out, `${prefix}_${item.key}`, item.value, options);
    return;
  }
  let index = 0;
  for (const item of node.items) {
    if (item.kind === 'comment') continue;
    flattenInto(out, `${prefix}_${index}`, item, options);
    index++;
  }
}

function setVariable(out: SecretVariables, name: string, node: Node & { kind: 'scalar' }, options: SecretVariableOptions): void {
  const file = options.file;
  checkName(name, file);
  const origin = options.provenance?.(node);
  if (origin === 'plaintext' && !options.allowUnauthenticated) {
    throw new EnvironmentError(`key ${quote(name)} is plaintext in a mac_only_encrypted file, so the MAC does not cover it and anyone could have set it (${ALLOW_UNAUTHENTICATED_HINT})`, file);
  }
  const value = valueToString(node);
  // Node would refuse the whole environment later, with the value in its message.
  if (value.includes('\0')) throw new EnvironmentError(`the value of key ${quote(name)} contains a NUL byte, which an environment variable cannot hold`, file);
  if (origin === 'empty') {
    const before = out.get(name);
    if (before !== undefined && before !== '' && !options.allowEmptyOverride) throw emptyOverride(name, 'a value set earlier in the file', file);
    options.empties?.set(name, file);
  } else {
    options.empties?.delete(name);
  }
  out.delete(name);
  out.set(name, value);
}

/** The refusal of an empty, unauthenticated value that would replace `what`. */
export function emptyOverride(name: string, what: string, file: string | undefined): EnvironmentError {
  return new EnvironmentError(`key ${quote(name)} has an empty value, which the MAC does not cover, and would replace ${what} (${ALLOW_EMPTY_OVERRIDE_HINT})`, file);
}

function checkName(name: string, file: string | undefined): void {
  if (name === '') throw new EnvironmentError('an empty key cannot be an environment variable name', file);
  if (name.includes('=')) throw new EnvironmentError(`key ${quote(name)} contains '=', which an environment variable name cannot hold`, file);
  if (name.includes('\0')) throw new EnvironmentError(`key ${quote(name)} contains a NUL byte, which an environment variable name cannot hold`, file);
}

/**
 * Several files' variables together; a later file wins over an earlier one.
 * With `empties` (one per set, from {@link secretVariables}), an empty value
 * may not replace an earlier file's value unless `allowEmptyOverride`; the
 * names whose final value is such an empty one are returned in `merged`.
 */
export function mergeVariables(sets: SecretVariables[], checks?: { empties: EmptyValues[]; merged: EmptyValues; allowEmptyOverride?: boolean }): SecretVariables {
  const out: SecretVariables = new Map();
  sets.forEach((set, i) => {
    const empties = checks?.empties[i];
    for (const [name, value] of set) {
      if (checks && empties?.has(name)) {
        const before = out.get(name);
        if (before !== undefined && before !== '' && !checks.allowEmptyOverride) throw emptyOverride(name, 'the value an earlier file sets', empties.get(name));
        checks.merged.set(name, empties.get(name));
      } else {
        checks?.merged.delete(name);
      }
      out.delete(name);
      out.set(name, value);
    }
  });
  return out;
}

/**
 * Variables that carry or point at tsops's (and sops's) own private keys.
 * The command never needs them to use its secrets, and a command that is
 * compromised or merely logs its environment would otherwise hold the keys
 * to every file. AWS, GnuPG and other tools' settings are theirs, not ours.
 */
export const KEY_MATERIAL_VARIABLES: readonly string[] = KEY_KINDS.flatMap((kind) => ('keyMaterialEnv' in kind ? kind.keyMaterialEnv : []));

export interface ChildEnvironmentOptions {
  /** The environment to start from (ignored with `pristine`). */
  parent: NodeJS.ProcessEnv;
  secrets: SecretVariables;
  /** Only the secrets (and `user`), nothing inherited. */
  pristine?: boolean;
  /** Secrets win over inherited variables (default). False: inherited variables win. */
  override?: boolean;
  /** HOME, USER, LOGNAME of the `--user` account: over the inherited ones, under the secrets. */
  user?: Record<string, string>;
  /** Pass on {@link KEY_MATERIAL_VARIABLES} too (default: they are not inherited). */
  keepKeyEnv?: boolean;
  /** Secrets whose value is empty, hence unauthenticated: they may add a variable, not replace one. */
  empties?: EmptyValues;
  allowEmptyOverride?: boolean;
}

/**
 * The environment a child gets: inherited variables, then the user's, then
 * the secrets, later entries winning (sops's order). A prototype-free object,
 * so a key such as `__proto__` is an ordinary variable.
 */
export function childEnvironment(options: ChildEnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!options.pristine) {
    for (const [name, value] of Object.entries(options.parent)) if (value !== undefined) env[name] = value;
    if (!options.keepKeyEnv) for (const name of KEY_MATERIAL_VARIABLES) delete env[name];
  }
  for (const [name, value] of Object.entries(options.user ?? {})) env[name] = value;
  const override = options.override ?? true;
  const inherited = (name: string): boolean => Object.prototype.hasOwnProperty.call(env, name);
  if (override && !options.allowEmptyOverride) {
    for (const [name, file] of options.empties ?? []) {
      if (inherited(name) && env[name] !== '' && options.secrets.get(name) === '') throw emptyOverride(name, 'the inherited variable', file);
    }
  }
  for (const [name, value] of options.secrets) {
    if (!override && inherited(name)) continue;
    env[name] = value;
  }
  return env;
}

function quote(key: string): string {
  return JSON.stringify(key);
}
