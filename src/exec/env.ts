/**
 * Decrypted documents turned into environment variables, as sops's exec-env
 * does: the top-level items of the first document, strings raw, other scalars
 * through ValToString. Nested values are refused unless flattening is asked
 * for, so no secret is ever dropped without a word.
 */
import { ExitCode, TsopsError } from '../errors.js';
import { valueToString } from '../sops/values.js';
import type { MapNode, Node } from '../tree.js';

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
}

/** Thrown for a document that cannot become environment variables; exit 1, as sops. */
export class EnvironmentError extends TsopsError {
  constructor(message: string, file?: string) {
    super(message, ExitCode.Generic, file === undefined ? undefined : { file });
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
      setVariable(out, item.key, valueToString(item.value), options.file);
    } else if (options.flatten) {
      const flat: SecretVariables = new Map();
      flattenInto(flat, item.key, item.value, options.file);
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

function flattenInto(out: SecretVariables, prefix: string, node: Node, file: string | undefined): void {
  if (node.kind === 'scalar') {
    if (out.has(prefix)) throw new EnvironmentError(`two values flatten to the same variable ${quote(prefix)}`, file);
    setVariable(out, prefix, valueToString(node), file);
    return;
  }
  if (node.kind === 'map') {
    for (const item of node.items) if (item.kind === 'entry') flattenInto(out, `${prefix}_${item.key}`, item.value, file);
    return;
  }
  let index = 0;
  for (const item of node.items) {
    if (item.kind === 'comment') continue;
    flattenInto(out, `${prefix}_${index}`, item, file);
    index++;
  }
}

function setVariable(out: SecretVariables, name: string, value: string, file: string | undefined): void {
  checkName(name, file);
  // Node would refuse the whole environment later, with the value in its message.
  if (value.includes('\0')) throw new EnvironmentError(`the value of key ${quote(name)} contains a NUL byte, which an environment variable cannot hold`, file);
  out.delete(name);
  out.set(name, value);
}

function checkName(name: string, file: string | undefined): void {
  if (name === '') throw new EnvironmentError('an empty key cannot be an environment variable name', file);
  if (name.includes('=')) throw new EnvironmentError(`key ${quote(name)} contains '=', which an environment variable name cannot hold`, file);
  if (name.includes('\0')) throw new EnvironmentError(`key ${quote(name)} contains a NUL byte, which an environment variable name cannot hold`, file);
}

/** Several files' variables together; a later file wins over an earlier one. */
export function mergeVariables(sets: SecretVariables[]): SecretVariables {
  const out: SecretVariables = new Map();
  for (const set of sets) {
    for (const [name, value] of set) {
      out.delete(name);
      out.set(name, value);
    }
  }
  return out;
}

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
  }
  for (const [name, value] of Object.entries(options.user ?? {})) env[name] = value;
  const override = options.override ?? true;
  for (const [name, value] of options.secrets) {
    if (!override && Object.prototype.hasOwnProperty.call(env, name)) continue;
    env[name] = value;
  }
  return env;
}

function quote(key: string): string {
  return JSON.stringify(key);
}
