import type { Scalar } from '../../tree.js';
import type { ScalarContext } from './render.js';

/**
 * What YAML parsing remembers about the source so that emit can rewrite only
 * what changed. Every node, entry and comment read from the text carries an
 * origin with its document and its ordinal in that document's tree walk: a
 * walk on emit that meets the same ordinals in the same order proves the tree
 * still has the source's shape.
 */
export interface YamlLayout {
  source: string;
  docs: DocLayout[];
  /** Spaces per nesting level, as the user indented (new block scalars use it). */
  step: number;
  /** `\r\n` when the source uses it: new lines are written the same way. */
  eol: '\n' | '\r\n';
  /** The metadata as read ({@link metadataKey}): while it is unchanged, old sops blocks keep their bytes. */
  metadataKey?: string;
}

/** A comparable text for a metadata tree (types included, origins left out). */
export function metadataKey(node: unknown): string {
  return JSON.stringify(node, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

export interface DocLayout {
  /** This document's share of the source: from its first token to the next document's first one. */
  start: number;
  end: number;
  /** Where a new sops block goes: the end of the content, before a `...` marker. */
  insertAt: number;
  /** The document starts with a `---` marker (a canonical rewrite keeps one). */
  marker: boolean;
  /** The old `sops:` block's lines, when the document had one. */
  sops?: { start: number; end: number };
  /** Nodes, entries and comments with an origin in this document. */
  originCount: number;
  /** Expanded aliases, or a root that a `sops:` block cannot follow: such a document is rewritten canonically. */
  spliceable: boolean;
  /** The root is a flow mapping or an explicit null: a sops block cannot be appended after it. */
  closedRoot: boolean;
}

interface Placed {
  layout: YamlLayout;
  doc: number;
  /** Position in the document's tree walk (entries, scalars and comments, in items order). */
  ordinal: number;
}

export interface EntryOrigin extends Placed {
  key: string;
}

export interface ScalarOrigin extends Placed {
  /** The scalar token (for a block scalar, its header through the end of its body). */
  start: number;
  end: number;
  /** End of the scalar's line, past a trailing comment and the newline: body text of a new block scalar goes here. */
  lineEnd: number;
  /** A block scalar: its header token (replaced by a flow scalar) and its body lines (dropped). */
  block?: { headerEnd: number; bodyStart: number };
  /** A core-schema tag (`!!int`, `!!str`...) that would contradict a new value: removed with its space. */
  tag?: { start: number; end: number };
  /** Written after an application tag (compose's `!reset`): the tag says what the text means, so a new string needs no quotes that plain text would. */
  customTag?: boolean;
  ctx: ScalarContext;
  type: Scalar['type'];
  value: Scalar['value'];
  /** No value in the source (`key:`, `-`, `{key}`): new text goes after this. */
  emptyLead?: string;
}

export interface CommentOrigin extends Placed {
  start: number;
  end: number;
  text: string;
  /** An encrypted comment that sops wrote as a `- ENC[...]` list element: the element's text. */
  element?: boolean;
}
