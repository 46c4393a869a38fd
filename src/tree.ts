/**
 * The one in-memory model shared by every format and by the crypto layer.
 *
 * Formats turn bytes into a {@link ParsedFile} and back; the document layer
 * (src/sops) replaces scalar values and comment texts in place. Nodes may carry
 * an `origin`: private to the format that produced them, it lets that format
 * write back untouched parts of the file exactly as they were written.
 */

/** sops value types (see the format spec, section 1.2). */
export type ScalarType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'bytes' | 'null';

/**
 * Value representation per type:
 * - str: string (binary files: Uint8Array, so non-UTF-8 bytes survive)
 * - int: bigint (int64 range; never a JS number, so large integers are exact)
 * - float: number
 * - bool: boolean
 * - time: string, RFC 3339 as Go's RFC3339Nano prints it (offset kept)
 * - bytes: Uint8Array (legacy, read-only)
 * - null: null
 */
export type ScalarValue = string | bigint | number | boolean | Uint8Array | null;

export interface Scalar {
  kind: 'scalar';
  type: ScalarType;
  value: ScalarValue;
  origin?: unknown;
}

/** A comment line: the text after the comment marker (`# foo` has text ` foo`). */
export interface Comment {
  kind: 'comment';
  text: string;
  /** YAML `k: v # c` style; such a comment is placed before its key, as sops does. */
  inline?: boolean;
  origin?: unknown;
}

export interface Entry {
  kind: 'entry';
  key: string;
  value: Node;
  origin?: unknown;
}

export interface MapNode {
  kind: 'map';
  items: (Entry | Comment)[];
  origin?: unknown;
}

export interface ListNode {
  kind: 'list';
  items: (Node | Comment)[];
  origin?: unknown;
}

export type Node = MapNode | ListNode | Scalar;

/**
 * What a format's parser yields. `documents` never contain the `sops` block:
 * the parser moves it to `metadata` (as a plain tree, still unvalidated).
 * `layout` is private to the format (source text, offsets) and lets emit keep
 * the user's layout.
 */
export interface ParsedFile {
  format: FormatName;
  documents: MapNode[];
  metadata?: MapNode;
  layout?: unknown;
  /** Things the user should know that do not stop the work (e.g. YAML aliases expanded). One line each. */
  warnings?: string[];
}

/** The store a file is read or written with, by its name (src/formats/registry.ts lists them). */
export type FormatName = string;

export function scalar(type: ScalarType, value: ScalarValue): Scalar {
  return { kind: 'scalar', type, value };
}

export function str(value: string): Scalar {
  return { kind: 'scalar', type: 'str', value };
}

export function map(entries: [string, Node][] = []): MapNode {
  return { kind: 'map', items: entries.map(([key, value]) => ({ kind: 'entry', key, value })) };
}

export function list(items: (Node | Comment)[] = []): ListNode {
  return { kind: 'list', items };
}

export function comment(text: string): Comment {
  return { kind: 'comment', text };
}

export function getEntry(node: MapNode, key: string): Entry | undefined {
  for (const item of node.items) if (item.kind === 'entry' && item.key === key) return item;
  return undefined;
}

export function entries(node: MapNode): Entry[] {
  return node.items.filter((i): i is Entry => i.kind === 'entry');
}

/**
 * Plain JavaScript view of a tree, for tests and the library API: maps become
 * objects, ints become numbers when they fit exactly (bigint otherwise), comments
 * are dropped, str bytes become strings.
 */
export function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty: a `__proto__` key in a file is data, not this object's prototype.
      for (const item of node.items) if (item.kind === 'entry') Object.defineProperty(out, item.key, { value: toPlain(item.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
    case 'list':
      return node.items.filter((i): i is Node => i.kind !== 'comment').map(toPlain);
    case 'scalar':
      return plainScalar(node);
  }
}

function plainScalar(node: Scalar): unknown {
  const v = node.value;
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v;
}

/** A deep copy without layout origins (the copy belongs to no file's layout). */
export function cloneNode<T extends Node | Comment>(node: T): T {
  if (node.kind === 'comment') return { kind: 'comment', text: node.text, ...(node.inline ? { inline: true } : {}) } as T;
  if (node.kind === 'scalar') return { kind: 'scalar', type: node.type, value: node.value instanceof Uint8Array ? new Uint8Array(node.value) : node.value } as T;
  if (node.kind === 'list') return { kind: 'list', items: node.items.map((i) => cloneNode(i)) } as T;
  return { kind: 'map', items: node.items.map((i) => (i.kind === 'entry' ? { kind: 'entry', key: i.key, value: cloneNode(i.value) } : cloneNode(i))) } as T;
}
