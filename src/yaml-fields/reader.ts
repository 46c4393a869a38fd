import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { ConfigError } from '../errors.js';
import { escapeControl } from '../escape.js';
import { splitCommaList } from '../comma-list.js';

/** A mapping entry with the key node kept for its line number. */
export interface Field {
  name: string;
  keyNode: Node;
  /** `null` for an empty value (`age:`). */
  value: Node | null;
  /** Dotted location for messages, e.g. `creation_rules[1].age`. */
  where: string;
}

/**
 * Typed, line-aware reads of a small YAML document. Every failure is a
 * one-line ConfigError `<file>:<line>: <problem>`; values from the file are
 * never quoted, only field names and locations.
 */
/** What to do with a field name not in the allowed list. */
export type UnknownFields = 'fail' | 'warn' | 'ignore';

export class YamlReader {
  readonly root: Node | null;
  /** One line each, `<file>:<line>: <problem>`, for what sops accepts but is probably a mistake. */
  readonly warnings: string[] = [];
  private readonly lines = new LineCounter();
  private readonly doc: Document.Parsed;

  constructor(text: string, readonly path: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, merge: true, uniqueKeys: true });
    const error = this.doc.errors[0];
    if (error) {
      const line = this.lines.linePos(error.pos[0]).line;
      throw new ConfigError(`${path}:${line}: invalid YAML: ${yamlReason(error.message)}`);
    }
    this.root = this.resolve(this.doc.contents as Node | null);
  }

  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  fail(node: Node | null | undefined, message: string): never {
    throw new ConfigError(`${this.path}:${this.line(node)}: ${message}`);
  }

  /** Follows aliases (`*name`) to the anchored node. */
  resolve(node: Node | null | undefined): Node | null {
    let current = node ?? null;
    for (let hops = 0; current && isAlias(current); hops++) {
      if (hops > 100) this.fail(node, 'alias chain too long');
      const target = current.resolve(this.doc);
      if (!target) this.fail(current, `unknown alias *${current.source}`);
      current = target;
    }
    if (current && isScalar(current) && current.value === null) return null;
    return current;
  }

  /**
   * The fields of a mapping, `<<` merge keys expanded (own fields win), every
   * name checked against `allowed`: an unknown one is an error, a warning
   * (sops ignores it, but it is likely a typo), or skipped, by `unknown`.
   */
  fields(node: Node, where: string, allowed: readonly string[], unknown: UnknownFields = 'fail'): Map<string, Field> {
    if (!isMap(node)) this.fail(node, `${where || 'the config'} must be a mapping`);
    const out = new Map<string, Field>();
    this.collect(node, where, allowed, out, 0, unknown);
    return out;
  }

  private collect(map: YAMLMap, where: string, allowed: readonly string[], out: Map<string, Field>, depth: number, unknown: UnknownFields): void {
    const merged: Node[] = [];
    for (const pair of map.items) {
      const keyNode = pair.key as Node;
      const key = this.resolve(keyNode);
      const value = this.resolve(pair.value as Node | null);
      if (key && isScalar(key) && isMergeKey(key.value) && depth < 20) {
        if (value && isSeq(value)) merged.push(...value.items.map((item) => this.resolve(item as Node)).filter((n): n is Node => n !== null));
        else if (value) merged.push(value);
        continue;
      }
      if (!key || !isScalar(key) || typeof key.value !== 'string') this.fail(keyNode, `field names in ${where || 'the config'} must be strings`);
      const name = key.value as string;
      if (!allowed.includes(name)) {
        if (unknown === 'ignore') continue;
        const hint = closest(name, allowed);
        const message = `unknown field '${printableName(name)}' in ${where || 'the config'}${hint ? ` (did you mean '${hint}'?)` : ''}`;
        if (unknown === 'fail') this.fail(keyNode, message);
        // sops drops a misspelt path_regex silently, and a rule without one matches every file.
        const hasPathRegex = map.items.some((p) => isScalar(p.key) && p.key.value === 'path_regex');
        const consequence = hint === 'path_regex' && !hasPathRegex ? ', so this rule applies to every file' : '';
        this.warnings.push(`${this.path}:${this.line(keyNode)}: ${message}; ignored, as sops does${consequence}`);
        continue;
      }
      out.set(name, { name, keyNode, value, where: where ? `${where}.${name}` : name });
    }
    for (const source of merged) {
      if (!isMap(source)) this.fail(source, `a '<<' merge in ${where || 'the config'} must name a mapping`);
      const extra = new Map<string, Field>();
      this.collect(source, where, allowed, extra, depth + 1, unknown);
      for (const [name, field] of extra) if (!out.has(name)) out.set(name, field);
    }
  }

  /** A scalar as text; plain numbers and booleans keep their source spelling (`0x1F`, `true`). */
  string(field: Field): string | undefined {
    const node = field.value;
    if (node === null) return undefined;
    if (!isScalar(node) || typeof node.value === 'object') this.fail(node, `${field.where} must be a string`);
    if (typeof node.value === 'string') return node.value;
    return node.source ?? String(node.value);
  }

  boolean(field: Field): boolean | undefined {
    const node = field.value;
    if (node === null) return undefined;
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(node, `${field.where} must be true or false`);
    return node.value as boolean;
  }

  integer(field: Field): number | undefined {
    const node = field.value;
    if (node === null) return undefined;
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) this.fail(node, `${field.where} must be a whole number`);
    return node.value as number;
  }

  /** The items of a list, aliases resolved; `null` items are kept so callers can reject them. */
  list(field: Field): { node: Node | null; where: string }[] | undefined {
    const node = field.value;
    if (node === null) return undefined;
    if (!isSeq(node)) this.fail(node, `${field.where} must be a list`);
    return node.items.map((item, i) => ({ node: this.resolve(item as Node), where: `${field.where}[${i}]` }));
  }

  /**
   * Keys given as `a,b` or as a list; list items may themselves be
   * comma-separated. Entries are trimmed and empty ones dropped.
   */
  keyList(field: Field): string[] {
    const node = field.value;
    if (node === null) return [];
    if (isSeq(node)) {
      return (this.list(field) ?? []).flatMap(({ node: item, where }) => {
        if (item === null) return [];
        return splitCommaList(this.string({ ...field, value: item, where }));
      });
    }
    if (isScalar(node)) return splitCommaList(this.string(field));
    this.fail(node, `${field.where} must be a string or a list of strings`);
  }

  /** A string-to-string mapping, such as a KMS `context`. */
  stringMap(field: Field): Record<string, string> | undefined {
    const node = field.value;
    if (node === null) return undefined;
    if (!isMap(node)) this.fail(node, `${field.where} must be a mapping of strings`);
    const entries: [string, string][] = [];
    for (const pair of node.items) {
      const key = this.resolve(pair.key as Node);
      if (!key || !isScalar(key) || typeof key.value === 'object') this.fail(pair.key as Node, `${field.where} keys must be strings`);
      const name = typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
      const value = this.string({ name, keyNode: key, value: this.resolve(pair.value as Node | null), where: `${field.where}.${name}` });
      entries.push([name, value ?? '']);
    }
    return Object.fromEntries(entries);
  }
}

/** A field name as printed: control characters escaped, at most 64 characters. */
function printableName(name: string): string {
  return escapeControl(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** `<<` arrives as a symbol when the merge-key schema recognises it. */
function isMergeKey(value: unknown): boolean {
  return value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}


/** The yaml package's reason without its "at line N, column M" tail or source excerpt. */
function yamlReason(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/\s+at line \d+, column \d+:?\s*$/, '').trim() || 'syntax error';
}

/** A known field name within edit distance 2 of `name`, to catch typos such as `path_regexp`. */
function closest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
