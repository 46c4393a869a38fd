import { CST, Parser } from 'yaml';
import { InputError } from '../../errors.js';
import { cloneNode, type Comment, type Entry, type ListNode, type MapNode, type Node, type ParsedFile } from '../../tree.js';
import { metadataKey, type CommentOrigin, type DocLayout, type EntryOrigin, type YamlLayout } from './layout.js';
import type { ScalarContext } from './render.js';
import { LeafReader, type Read } from './leaves.js';
import { resolvePlain } from './resolve.js';
import { readSimpleYaml } from './simple.js';
import { asListItem, numberOrigins, withoutComments } from './tree-shape.js';
import { directiveProblem, parserProblem } from './syntax.js';
import { contentEnd, isBlockCollection, startsOnNewLine, type SourceTok, type Tok } from './tokens.js';

/**
 * YAML parsing at the `yaml` package's CST layer: tokens with offsets, no
 * Document composition (several times cheaper). The structural checks the
 * composer would make are made here, and every scalar, entry and comment
 * remembers where it stood so emit can rewrite just what changed.
 */

const MAX_DEPTH = 1000;
/** Alias expansion copies values; a few nested aliases must not blow up into millions of nodes. */
const MAX_EXPANDED_NODES = 1_000_000;


class YamlReader extends LeafReader {
  private anchors = new Map<string, Node>();
  private sizes = new WeakMap<Node, number>();
  private expanded = 0;
  private depth = 0;
  private doc!: DocLayout;
  private stepFound = false;
  private inSops = false;

  read(): { documents: MapNode[]; metadata?: MapNode } {
    const documents: MapNode[] = [];
    let metadata: MapNode | undefined;
    let pending: Comment[] = [];
    let pendingStart: number | undefined;
    const directives = new Set<string>();
    for (const token of new Parser().parse(this.source)) {
      switch (token.type) {
        case 'comment':
          pendingStart ??= token.offset;
          pending.push(this.comment(token));
          break;
        case 'directive': {
          pendingStart ??= token.offset;
          const problem = directiveProblem(token.source, directives);
          if (problem) this.fail(problem, token.offset);
          break;
        }
        case 'doc-end':
          if (this.doc) {
            this.doc.insertAt = Math.min(this.doc.insertAt, token.offset);
            for (const t of token.end ?? []) this.trailer(t, documents[documents.length - 1]!);
          }
          break;
        case 'error':
          this.fail(parserProblem(token.message), token.offset);
        case 'document': {
          if (directives.size && !token.start.some((t) => t.type === 'doc-start')) this.fail('a directive must be followed by ---', token.offset);
          const start = this.doc ? (pendingStart ?? token.offset) : 0;
          // The previous document keeps its `...` marker: the sops block goes before it, the marker stays.
          if (this.doc) {
            this.doc.end = start;
            this.doc.insertAt = Math.min(this.doc.insertAt, start);
          }
          const { root, sops } = this.document(token, start, pending);
          if (sops && this.docIndex === 0) metadata = sops;
          documents.push(root);
          this.docIndex++;
          pending = [];
          pendingStart = undefined;
          directives.clear();
          break;
        }
        default:
          break;
      }
    }
    // go-yaml: directives with no document after them.
    if (directives.size) this.fail('a directive must be followed by ---', this.source.length);
    if (!documents.length && pending.length) {
      // Only comments: one empty document holds them.
      this.newDoc(0, false);
      documents.push({ kind: 'map', items: [] });
    }
    const last = documents[documents.length - 1];
    if (last) {
      // Comments after a closing `...` were read as the next document's: they belong to the last one.
      for (const c of pending) (c.origin as CommentOrigin).doc = documents.length - 1;
      last.items.push(...pending);
      this.doc.insertAt = Math.min(this.doc.insertAt, this.source.length);
      this.doc.end = this.source.length;
    }
    documents.forEach((doc, i) => (this.layout.docs[i]!.originCount = numberOrigins(doc)));
    return metadata ? { documents, metadata } : { documents };
  }

  private newDoc(start: number, marker: boolean): DocLayout {
    this.doc = { start, end: this.source.length, insertAt: this.source.length, marker, originCount: 0, spliceable: true, closedRoot: false };
    this.layout.docs.push(this.doc);
    this.anchors = new Map();
    return this.doc;
  }

  private trailer(t: SourceTok, root: MapNode): void {
    if (t.type === 'comment') root.items.push(this.comment(t));
    else if ((t.type as string) === 'error') this.unexpected(t);
    else if (t.type !== 'space' && t.type !== 'newline') this.fail('unexpected content after the end of a document', t.offset);
  }

  private document(token: CST.Document, start: number, leading: Comment[]): { root: MapNode; sops?: MapNode } {
    const marker = token.start.some((t) => t.type === 'doc-start');
    this.newDoc(start, marker);
    const head: Comment[] = [...leading];
    for (const t of token.start) {
      if (t.type === 'comment') head.push(this.comment(t));
      else if (t.type === 'anchor' || t.type === 'tag') this.fail('properties on the document root are not supported', t.offset);
    }
    let root: MapNode = { kind: 'map', items: [] };
    const value = token.value;
    if (value) {
      if (value.type === 'block-map') root = this.blockMap(value, -1).node;
      else if (value.type === 'flow-collection' && value.start.source === '{') {
        const read = this.flowCollection(value) as Read<MapNode>;
        root = read.node;
        root.items.push(...read.inline);
        this.doc.closedRoot = true;
      } else if (value.type === 'block-seq' || value.type === 'flow-collection') {
        this.fail('the top level must be a mapping, not a sequence', value.offset);
      } else if (value.type === 'scalar' && resolvesNull(value.source)) {
        if (value.source.length) this.doc.closedRoot = true;
        for (const t of value.end ?? []) this.trailer(t, root);
      } else if (value.type === 'error') {
        this.fail(parserProblem(value.message), value.offset);
      } else {
        this.fail('the top level must be a mapping', value.offset);
      }
    }
    for (const t of token.end ?? []) this.trailer(t, root);
    root.items.unshift(...head);
    const sops = this.extractSops(root, value);
    return sops ? { root, sops } : { root };
  }

  /** Moves the `sops` entry out of the root and remembers its lines. */
  private extractSops(root: MapNode, value: Tok | undefined): MapNode | undefined {
    const at = root.items.findIndex((it) => it.kind === 'entry' && it.key === 'sops');
    if (at < 0) return undefined;
    const entry = root.items[at] as Entry;
    root.items.splice(at, 1);
    if (value?.type === 'block-map') {
      const item = value.items.find((it) => it.key && CST.isScalar(it.key) && CST.resolveAsScalar(it.key)?.value === 'sops');
      if (item?.key) {
        const lineStart = this.source.lastIndexOf('\n', item.key.offset - 1) + 1;
        let end = Math.max(contentEnd(item.value ?? item.key), contentEnd(item.sep ?? []));
        const newline = this.source.indexOf('\n', end);
        end = newline < 0 ? this.source.length : newline + 1;
        this.doc.sops = { start: lineStart, end };
      }
    }
    if (entry.value.kind !== 'map') {
      if (this.docIndex === 0) throw new InputError('the top-level "sops" key must hold a mapping', this.file === undefined ? undefined : { file: this.file });
      return undefined;
    }
    return withoutComments(entry.value);
  }

  private value(token: Tok | undefined, ctx: ScalarContext, props: SourceTok[], parentIndent: number, emptyAt: number, emptyLead = ' '): Read {
    const anchor = props.find((p) => p.type === 'anchor');
    const tag = props.find((p) => p.type === 'tag');
    if (!token) {
      const node = this.emptyScalar(emptyAt, emptyLead, ctx, tag);
      if (anchor) this.anchors.set(anchor.source.slice(1), node);
      return { node, inline: [], spill: [] };
    }
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, token.offset);
    try {
      let read: Read;
      switch (token.type) {
        case 'alias':
          if (anchor || tag) this.fail('an alias cannot have an anchor or a tag', token.offset);
          read = { node: this.alias(token), inline: this.lineComments(token.end), spill: [] };
          break;
        case 'block-map':
          read = this.blockMap(token, parentIndent);
          break;
        case 'block-seq':
          read = this.blockSeq(token, parentIndent);
          break;
        case 'flow-collection':
          read = this.flowCollection(token);
          break;
        case 'scalar':
        case 'single-quoted-scalar':
        case 'double-quoted-scalar':
        case 'block-scalar':
          read = this.scalar(token, ctx, tag);
          break;
        case 'error':
          this.fail(parserProblem(token.message), token.offset);
        default:
          this.fail(`unexpected ${token.type.replace(/-/g, ' ')}`, token.offset);
      }
      if (anchor) this.anchors.set(anchor.source.slice(1), read.node);
      return read;
    } finally {
      this.depth--;
    }
  }

  private alias(token: CST.FlowScalar): Node {
    const name = token.source.slice(1);
    const target = this.anchors.get(name);
    // Never the name: in a plaintext file it may be a secret that YAML took for an alias.
    if (!target) this.fail('unknown alias (a value starting with * needs quotes)', token.offset);
    this.expanded += this.size(target);
    if (this.expanded > MAX_EXPANDED_NODES) this.fail('aliases expand to too many values', token.offset);
    // Expanded copies have no place in the source: the document is written canonically.
    this.doc.spliceable = false;
    this.warnings.add('YAML anchors/aliases were expanded: each copy is encrypted separately');
    return cloneNode(target);
  }

  private size(node: Node): number {
    if (node.kind === 'scalar') return 1;
    let n = this.sizes.get(node);
    if (n === undefined) {
      n = 1;
      for (const item of node.items) if (item.kind !== 'comment') n += this.size(item.kind === 'entry' ? item.value : item);
      this.sizes.set(node, n);
    }
    return n;
  }

  /** Trailing comments of a collection: those indented to it stay, the rest (and all after them) go to an ancestor. */
  private keepOrSpill(comments: Comment[], indent: number, parentIndent: number, items: (Node | Comment | Entry)[], spill: Comment[]): void {
    for (const c of comments) {
      const column = this.positions.column((c.origin as CommentOrigin).start);
      if (!spill.length && column >= indent && column > parentIndent) items.push(c);
      else spill.push(c);
    }
  }

  private blockMap(token: CST.BlockMap, parentIndent: number): Read<MapNode> {
    const map: MapNode = { kind: 'map', items: [] };
    const indent = token.indent;
    const ctx: ScalarContext = { indent, step: 0, inFlow: false };
    const seen = new Set<string>();
    const spill: Comment[] = [];
    for (const item of token.items) {
      const trailing: Comment[] = [];
      let explicit: SourceTok | undefined;
      let keyTag: SourceTok | undefined;
      let first: SourceTok | undefined;
      for (const t of item.start) {
        if (t.type === 'comment') trailing.push(this.comment(t));
        else if (t.type === 'explicit-key-ind') explicit = t;
        else if (t.type === 'tag') keyTag = t;
        else if (t.type !== 'space' && t.type !== 'newline' && t.type !== 'anchor') this.unexpected(t);
        if (t.type !== 'space' && t.type !== 'newline' && t.type !== 'comment') first ??= t;
      }
      if (!item.key && !explicit) {
        if (item.sep || item.value) this.fail('non-string key (a mapping entry without a key)', item.sep?.[0]?.offset ?? token.offset);
        this.keepOrSpill(trailing, indent, parentIndent, map.items, spill);
        continue;
      }
      map.items.push(...trailing);
      const keyAt = first?.offset ?? item.key!.offset;
      if (this.positions.column(keyAt) !== indent) this.fail('bad indentation of a mapping entry', keyAt);
      if (!item.key) this.fail('non-string key (an explicit key without a value)', keyAt);
      const key = this.key(item.key, keyTag, !explicit);
      if (this.docIndex === 0 && seen.has(key)) this.fail(`duplicate key "${key}" (line ${this.positions.line(item.key.offset)})`, item.key.offset);
      seen.add(key);
      if (this.depth === 0) this.inSops = key === 'sops';
      const sep = this.splitSep(item.sep ?? [], map.items, !explicit);
      if (!sep.colon && !explicit) this.fail('a mapping key needs a ":" after it', item.key.offset);
      if (item.value && isBlockCollection(item.value) && !sep.newline && !(explicit && startsOnNewLine(this.source, item.value.offset))) {
        this.fail('a block collection cannot start on the line of its key', item.value.offset);
      }
      const read = this.value(item.value ?? undefined, ctx, sep.props, indent, sep.valueAt);
      const value = read.node;
      if (!this.stepFound && !this.inSops && item.value && isBlockCollection(item.value) && item.value.indent > indent) {
        this.layout.step = item.value.indent - indent;
        this.stepFound = true;
      }
      if (sep.own.length) {
        if (value.kind === 'scalar') map.items.push(...sep.own);
        else (value.items as (Node | Comment)[]).unshift(...sep.own);
      }
      map.items.push(...sep.inline, ...read.inline);
      map.items.push({ kind: 'entry', key, value, origin: { layout: this.layout, doc: this.docIndex, ordinal: -1, key } satisfies EntryOrigin });
      this.keepOrSpill(read.spill, indent, parentIndent, map.items, spill);
    }
    return { node: map, inline: [], spill };
  }

  /** The tokens between a key and its value: comments on the key's line (inline), comments on lines of their own, anchors and tags. */
  private splitSep(sep: SourceTok[], before: (Entry | Comment)[], block: boolean) {
    const inline: Comment[] = [];
    const own: Comment[] = [];
    const props: SourceTok[] = [];
    let colon = false;
    let newline = false;
    let valueAt = 0;
    for (const t of sep) {
      switch (t.type) {
        case 'map-value-ind':
          colon = true;
          newline = false;
          valueAt = t.offset + 1;
          break;
        case 'newline':
          newline = true;
          break;
        case 'comment':
          if (!colon) before.push(this.comment(t));
          else if (newline) own.push(this.comment(t));
          else inline.push(this.comment(t, true));
          break;
        case 'anchor':
        case 'tag':
          props.push(t);
          break;
        case 'space':
        case 'explicit-key-ind':
          break;
        default:
          if (block || t.type !== 'comma') this.unexpected(t);
      }
    }
    return { inline, own, props, colon, newline, valueAt };
  }

  private blockSeq(token: CST.BlockSequence, parentIndent: number): Read<ListNode> {
    const list: ListNode = { kind: 'list', items: [] };
    const ctx: ScalarContext = { indent: token.indent, step: 0, inFlow: false };
    const spill: Comment[] = [];
    for (const item of token.items) {
      const props: SourceTok[] = [];
      const comments: Comment[] = [];
      // Comments on lines of their own between the dash and a nested collection belong to that collection.
      const nested: Comment[] = [];
      let dash: SourceTok | undefined;
      let newlineAfterDash = false;
      for (const t of item.start) {
        if (t.type === 'comment') (newlineAfterDash ? nested : comments).push(this.comment(t));
        else if (t.type === 'newline') newlineAfterDash = dash !== undefined;
        else if (t.type === 'seq-item-ind') dash = t;
        else if (t.type === 'anchor' || t.type === 'tag') props.push(t);
        else if (t.type !== 'space') this.unexpected(t);
      }
      if (!dash) {
        if (item.value) this.fail('a sequence entry needs "- " before it', item.value.offset);
        this.keepOrSpill(comments, token.indent, parentIndent, list.items, spill);
        continue;
      }
      if (this.positions.column(dash.offset) !== token.indent) this.fail('bad indentation of a sequence entry', dash.offset);
      list.items.push(...comments);
      const read = this.value(item.value ?? undefined, ctx, props, token.indent, dash.offset + 1);
      if (read.node.kind === 'scalar') list.items.push(...nested);
      else (read.node.items as (Node | Comment)[]).unshift(...nested);
      list.items.push(...read.inline);
      list.items.push(asListItem(read.node));
      this.keepOrSpill(read.spill, token.indent, parentIndent, list.items, spill);
    }
    return { node: list, inline: [], spill };
  }

  private flowCollection(token: CST.FlowCollection): Read<MapNode | ListNode> {
    const isMap = token.start.source === '{';
    const closer = isMap ? '}' : ']';
    const closeAt = token.end.findIndex((t) => t.source === closer);
    if (closeAt < 0) this.fail(`unclosed ${token.start.source}`, token.offset);
    const ctx: ScalarContext = { indent: 0, step: 0, inFlow: true };
    const out: MapNode | ListNode = isMap ? { kind: 'map', items: [] } : { kind: 'list', items: [] };
    const items = out.items as (Node | Comment | Entry)[];
    const seen = new Set<string>();
    token.items.forEach((item, index) => {
      let comma = false;
      const props: SourceTok[] = [];
      for (const t of item.start) {
        if (t.type === 'comment') items.push(this.comment(t));
        else if (t.type === 'comma') {
          // go-yaml: a comma needs an entry before it (no `[,]`, no `[1,,2]`).
          if (comma || index === 0) this.fail('unexpected "," in a flow collection', t.offset);
          comma = true;
        }
        else if (t.type === 'anchor' || t.type === 'tag') props.push(t);
        else if (t.type === 'explicit-key-ind') this.fail('explicit keys in flow collections are not supported', t.offset);
        else if (t.type !== 'space' && t.type !== 'newline') this.unexpected(t);
      }
      const empty = !item.key && !item.value && !item.sep;
      // Line breaks, spaces or comments before the closing bracket (JSON's layout for nested collections).
      if (empty && !comma) return;
      if (index > 0 && !comma) this.fail('missing "," between flow collection items', (item.key ?? item.value ?? token).offset);
      if (empty) {
        if (index < token.items.length - 1 || !comma) this.fail('unexpected "," in a flow collection', item.start[0]?.offset ?? token.offset);
        return;
      }
      for (const v of [item.key, item.value]) if (v && isBlockCollection(v)) this.fail('a block collection cannot be inside a flow collection', v.offset);
      if (isMap) {
        if (!item.key) this.fail('non-string key (a flow mapping entry without a key)', (item.value ?? token).offset);
        const key = this.key(item.key, undefined, true);
        if (this.docIndex === 0 && seen.has(key)) this.fail(`duplicate key "${key}" (line ${this.positions.line(item.key.offset)})`, item.key.offset);
        seen.add(key);
        const sep = this.splitSep(item.sep ?? [], items as (Entry | Comment)[], false);
        const read = sep.colon
          ? this.value(item.value ?? undefined, ctx, [...props, ...sep.props], 0, sep.valueAt)
          : this.value(undefined, ctx, props, 0, contentEnd(item.key), ': ');
        items.push(...sep.inline, ...sep.own, ...read.inline);
        items.push({ kind: 'entry', key, value: read.node, origin: { layout: this.layout, doc: this.docIndex, ordinal: -1, key } satisfies EntryOrigin });
      } else {
        if (item.key || item.sep) this.fail('mappings inside flow sequences are not supported', (item.key ?? item.sep?.[0] ?? token).offset);
        const read = this.value(item.value ?? undefined, ctx, props, 0, token.offset);
        items.push(...read.inline, asListItem(read.node));
      }
    });
    for (const t of token.end.slice(0, closeAt)) if (t.type === 'comment') items.push(this.comment(t));
    const inline = this.lineComments(token.end.slice(closeAt + 1));
    return { node: out, inline, spill: [] };
  }
}

function resolvesNull(text: string): boolean {
  try {
    return resolvePlain(text).type === 'null';
  } catch {
    return false;
  }
}

export function parseYaml(input: Uint8Array, file?: string): ParsedFile {
  const source = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  const simple = readSimpleYaml(source);
  return simple ? parsedFile(simple) : parseYamlSource(source, file);
}

/** Parsing through the `yaml` CST only, for any YAML (the fast path's reference in tests). */
export function parseYamlWithCst(input: Uint8Array, file?: string): ParsedFile {
  return parseYamlSource(Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'), file);
}

function parseYamlSource(source: string, file: string | undefined): ParsedFile {
  const reader = new YamlReader(source, file);
  let result: { documents: MapNode[]; metadata?: MapNode };
  try {
    result = reader.read();
  } catch (e) {
    if (e instanceof RangeError) throw new InputError('invalid YAML: nesting too deep', file === undefined ? undefined : { file });
    throw e;
  }
  const parsed = parsedFile({ ...result, layout: reader.layout });
  if (reader.warnings.size) parsed.warnings = [...reader.warnings];
  return parsed;
}

function parsedFile(read: { documents: MapNode[]; metadata?: MapNode; layout: YamlLayout }): ParsedFile {
  const parsed: ParsedFile = { format: 'yaml', documents: read.documents, layout: read.layout };
  if (read.metadata) {
    parsed.metadata = read.metadata;
    read.layout.metadataKey = metadataKey(read.metadata);
  }
  return parsed;
}
