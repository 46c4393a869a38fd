import { CST, Parser } from 'yaml';
import { InputError } from '../../errors.js';
import type { Comment, Entry, ListNode, MapNode, Node, ParsedFile, Scalar } from '../../tree.js';
import { resolvePlain, timestamp, UnrepresentableError } from './resolve.js';
import type { ScalarContext } from './render.js';

/**
 * YAML parsing at the `yaml` package's CST layer: tokens with offsets, no
 * Document composition. Every scalar and comment remembers where it stood so
 * emit can rewrite just what changed and keep every other byte.
 */

export interface YamlLayout {
  source: string;
  docs: DocLayout[];
  /** How many nodes carry an origin from this parse: a different count on emit means the structure changed. */
  originCount: number;
  step: number;
}

export interface DocLayout {
  /** Where the document's content ends (a new sops block goes here). */
  end: number;
  /** The old `sops:` block's lines, when the document had one. */
  sops?: { start: number; end: number };
  hasAliases: boolean;
}

export interface ScalarOrigin {
  layout: YamlLayout;
  start: number;
  end: number;
  /** For flow scalars: the end of the line (after a trailing comment and newline), used when the value becomes a block. */
  lineEnd: number;
  trailingComment?: string;
  wasBlock: boolean;
  ctx: ScalarContext;
  type: Scalar['type'];
  value: Scalar['value'];
  /** `key:` with no value: new text needs a leading space. */
  empty?: boolean;
}

export interface CommentOrigin {
  layout: YamlLayout;
  start: number;
  end: number;
  text: string;
}

export interface ItemOrigin {
  layout: YamlLayout;
}

const MAX_DEPTH = 1000;
const ENC_COMMENT = /^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:comment\]/;

type Tok = CST.Token;
type SourceTok = CST.SourceToken;

class YamlReader {
  readonly layout: YamlLayout;
  private anchors = new Map<string, Node>();
  private doc!: DocLayout;
  private docIndex = 0;
  private depth = 0;
  warnings: string[] = [];

  constructor(private readonly source: string, private readonly file?: string) {
    this.layout = { source, docs: [], originCount: 0, step: 2 };
  }

  fail(message: string, offset: number): never {
    const before = this.source.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    throw new InputError(`invalid YAML at line ${line}, column ${column}: ${message}`, this.file === undefined ? undefined : { file: this.file });
  }

  read(): { documents: MapNode[]; metadata?: MapNode } {
    const documents: MapNode[] = [];
    let metadata: MapNode | undefined;
    let pendingComments: Comment[] = [];
    const tokens = [...new Parser().parse(this.source)];
    tokens.forEach((token, i) => {
      if (token.type === 'comment') {
        pendingComments.push(this.comment(token as SourceTok));
        return;
      }
      if (token.type === 'error') this.fail((token as CST.ErrorToken).message.replace(/ in YAML stream$/, ''), token.offset);
      if (token.type !== 'document') return;
      const next = tokens.slice(i + 1).find((t) => t.type === 'document');
      this.doc = { end: next ? next.offset : this.source.length, hasAliases: false };
      this.layout.docs.push(this.doc);
      this.anchors = new Map();
      const doc = token as CST.Document;
      const root = this.document(doc, pendingComments);
      pendingComments = [];
      const sops = root.items.findIndex((it) => it.kind === 'entry' && it.key === 'sops');
      if (sops >= 0) {
        const entry = root.items[sops] as Entry;
        if (this.docIndex === 0 && entry.value.kind === 'map') metadata = entry.value;
        root.items.splice(sops, 1);
        this.layout.originCount -= countOrigins(entry);
      }
      documents.push(root);
      this.docIndex++;
    });
    if (pendingComments.length) {
      if (documents.length) documents[documents.length - 1]!.items.push(...pendingComments);
    }
    return metadata ? { documents, metadata } : { documents };
  }

  private document(doc: CST.Document, leading: Comment[]): MapNode {
    const items: (Entry | Comment)[] = [...leading];
    for (const t of doc.start) if (t.type === 'comment') items.push(this.comment(t));
    let root: MapNode = { kind: 'map', items: [] };
    const value = doc.value;
    if (value) {
      if (value.type === 'block-map' || (value.type === 'flow-collection' && value.start.source === '{')) {
        root = this.value(value, { indent: 0, step: 2, inFlow: false }, [], 'root') as MapNode;
      } else if (value.type === 'block-seq' || value.type === 'flow-collection') {
        this.fail('the top level must be a mapping, not a sequence', value.offset);
      } else if (CST.isScalar(value)) {
        const text = CST.resolveAsScalar(value)?.value ?? '';
        if (value.type !== 'scalar' || resolvePlain(text).type !== 'null') this.fail('the top level must be a mapping', value.offset);
        for (const t of (value as CST.FlowScalar).end ?? []) if (t.type === 'comment') items.push(this.comment(t));
      } else if (value.type === 'error') {
        this.fail((value as CST.ErrorToken).message, value.offset);
      }
    }
    for (const t of doc.end ?? []) if (t.type === 'comment') root.items.push(this.comment(t));
    root.items.unshift(...items);
    const sopsItem = value && value.type === 'block-map' ? value.items.find((it) => it.key && CST.isScalar(it.key) && CST.resolveAsScalar(it.key)?.value === 'sops') : undefined;
    if (sopsItem && sopsItem.key) {
      const start = this.source.lastIndexOf('\n', sopsItem.key.offset - 1) + 1;
      let end = tokenEnd(sopsItem.value ?? sopsItem.key);
      if (this.source[end] === '\n') end++;
      this.doc.sops = { start, end };
    }
    return root;
  }

  private comment(t: SourceTok): Comment {
    const text = t.source.slice(1);
    this.layout.originCount++;
    return { kind: 'comment', text, origin: { layout: this.layout, start: t.offset, end: t.offset + t.source.length, text } satisfies CommentOrigin };
  }

  private value(token: Tok | undefined | null, ctx: ScalarContext, props: SourceTok[], where: string, emptyAt?: number): Node {
    if (!token) return this.emptyScalar(emptyAt ?? 0, ctx);
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, token.offset);
    try {
      const anchor = props.find((p) => p.type === 'anchor');
      const tag = props.find((p) => p.type === 'tag');
      let node: Node;
      switch (token.type) {
        case 'alias': {
          const target = this.anchors.get(token.source.slice(1));
          if (!target) this.fail(`unknown alias ${token.source}`, token.offset);
          this.doc.hasAliases = true;
          if (!this.warnings.length) this.warnings.push('YAML anchors and aliases were expanded: each copy is encrypted separately and the output has no anchors');
          node = structuredClone(stripOrigins(target));
          break;
        }
        case 'block-map':
          node = this.blockMap(token, ctx);
          break;
        case 'block-seq':
          node = this.blockSeq(token, ctx);
          break;
        case 'flow-collection':
          node = this.flowCollection(token, ctx);
          break;
        case 'scalar':
        case 'single-quoted-scalar':
        case 'double-quoted-scalar':
        case 'block-scalar':
          node = this.scalar(token, ctx, tag);
          break;
        case 'error':
          this.fail((token as CST.ErrorToken).message, token.offset);
        default:
          this.fail(`unexpected ${token.type} in ${where}`, token.offset);
      }
      if (anchor) this.anchors.set(anchor.source.slice(1), node);
      return node;
    } finally {
      this.depth--;
    }
  }

  private emptyScalar(at: number, ctx: ScalarContext): Scalar {
    this.layout.originCount++;
    return {
      kind: 'scalar',
      type: 'null',
      value: null,
      origin: { layout: this.layout, start: at, end: at, lineEnd: at, wasBlock: false, ctx, type: 'null', value: null, empty: true } satisfies ScalarOrigin,
    };
  }

  private scalar(token: CST.FlowScalar | CST.BlockScalar, ctx: ScalarContext, tag: SourceTok | undefined): Scalar {
    let problem: string | undefined;
    const resolved = CST.resolveAsScalar(token, true, (offset, _code, message) => {
      problem ??= message;
      void offset;
    });
    if (problem) this.fail(problem.split('\n')[0]!.replace(/:.*$/, ''), token.offset);
    const text = resolved.value;
    let type: Scalar['type'] = 'str';
    let value: Scalar['value'] = text;
    try {
      if (tag) ({ type, value } = this.tagged(tag, text, token.offset));
      else if (token.type === 'scalar') {
        if (ctx.inFlow === false && /(^|\s)-?:\s|:$/.test(text) && !/^[\[{]/.test(text)) this.fail('a plain value cannot contain ": " here (quote it)', token.offset);
        ({ type, value } = resolvePlain(text));
      }
    } catch (e) {
      if (e instanceof UnrepresentableError) this.fail(e.message, token.offset);
      throw e;
    }
    const isBlock = token.type === 'block-scalar';
    const start = isBlock ? (token.props[0]?.offset ?? token.offset) : token.offset;
    // A block scalar's token offset is its header; its source is the content after the header line.
    const lastProp = isBlock ? (token.props[token.props.length - 1] as SourceTok | undefined) : undefined;
    const end = lastProp ? lastProp.offset + lastProp.source.length + token.source.length : token.offset + token.source.length;
    let lineEnd = end;
    let trailingComment: string | undefined;
    if (!isBlock) {
      for (const t of token.end ?? []) {
        lineEnd = t.offset + t.source.length;
        if (t.type === 'comment') trailingComment = t.source;
        if (t.type === 'newline') break;
      }
    } else {
      const headerComment = token.props.find((p): p is SourceTok => p.type === 'comment');
      if (headerComment) trailingComment = headerComment.source;
    }
    this.layout.originCount++;
    const origin: ScalarOrigin = { layout: this.layout, start, end, lineEnd, wasBlock: isBlock, ctx, type, value };
    if (trailingComment !== undefined) origin.trailingComment = trailingComment;
    return { kind: 'scalar', type, value, origin };
  }

  private tagged(tag: SourceTok, text: string, offset: number): { type: Scalar['type']; value: Scalar['value'] } {
    const name = tag.source.replace(/^!!/, 'tag:yaml.org,2002:').replace(/^!<(.*)>$/, '$1');
    switch (name) {
      case 'tag:yaml.org,2002:str':
        return { type: 'str', value: text };
      case 'tag:yaml.org,2002:binary':
        return { type: 'bytes', value: new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64')) };
      case 'tag:yaml.org,2002:timestamp': {
        const t = timestamp(text);
        if (!t) this.fail('not a timestamp', offset);
        return { type: 'time', value: t };
      }
      case 'tag:yaml.org,2002:int':
      case 'tag:yaml.org,2002:float':
      case 'tag:yaml.org,2002:bool':
      case 'tag:yaml.org,2002:null': {
        const r = resolvePlain(text);
        const want = name.slice(name.lastIndexOf(':') + 1);
        if (r.type === want || (want === 'float' && r.type === 'int')) return want === 'float' ? { type: 'float', value: Number(r.value) } : r;
        this.fail(`value does not match its tag ${tag.source}`, offset);
      }
      default:
        if (!this.warnings.some((w) => w.includes('tags'))) this.warnings.push(`custom YAML tags (${tag.source}) are not kept: the value is read as a string`);
        return { type: 'str', value: text };
    }
  }

  private blockMap(token: CST.BlockMap, parent: ScalarContext): MapNode {
    const map: MapNode = { kind: 'map', items: [] };
    const ctx: ScalarContext = { indent: token.indent, step: parent.step, inFlow: false };
    if (token.indent > 0 && this.layout.step === 2 && parent.indent === 0 && token.indent !== 2) this.layout.step = token.indent;
    const seen = new Set<string>();
    for (const item of token.items) {
      for (const t of item.start) if (t.type === 'comment') map.items.push(this.comment(t));
      if (item.explicitKey) this.fail('complex keys (?) are not supported', item.start[0]?.offset ?? token.offset);
      if (!item.key) {
        if (item.sep || item.value) this.fail('a mapping value needs a key', token.offset);
        continue;
      }
      const key = this.key(item.key);
      if (this.docIndex === 0 && seen.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`, item.key.offset);
      seen.add(key);
      const { inline, childComments, props, valueAt } = this.splitSep(item.sep ?? []);
      map.items.push(...inline);
      const value = this.value(item.value, ctx, props, 'a mapping', valueAt);
      if (childComments.length) {
        if (value.kind === 'map' || value.kind === 'list') (value.items as (Node | Comment)[]).unshift(...childComments);
        else map.items.push(...childComments);
      }
      const endComments = value.kind === 'scalar' ? inlineComments(item.value) : [];
      for (const c of endComments) map.items.push(this.comment(c));
      this.layout.originCount++;
      map.items.push({ kind: 'entry', key, value, origin: { layout: this.layout } satisfies ItemOrigin });
    }
    return map;
  }

  /** Splits the tokens between `key:` and the value: comments on the key's line, comments on lines of their own, anchors and tags. */
  private splitSep(sep: SourceTok[]): { inline: Comment[]; childComments: Comment[]; props: SourceTok[]; valueAt: number } {
    const inline: Comment[] = [];
    const childComments: Comment[] = [];
    const props: SourceTok[] = [];
    let sawNewline = false;
    let valueAt = 0;
    for (const t of sep) {
      if (t.type === 'map-value-ind') valueAt = t.offset + 1;
      if (t.type === 'newline') sawNewline = true;
      if (t.type === 'comment') (sawNewline ? childComments : inline).push({ ...this.comment(t), ...(sawNewline ? {} : { inline: true }) });
      if (t.type === 'anchor' || t.type === 'tag') props.push(t);
    }
    return { inline, childComments, props, valueAt };
  }

  private key(token: Tok): string {
    if (!CST.isScalar(token)) this.fail('keys must be strings', token.offset);
    const r = CST.resolveAsScalar(token);
    if (!r) this.fail('keys must be strings', token.offset);
    if (token.type === 'scalar') {
      let t: Scalar['type'];
      try {
        t = resolvePlain(r.value).type;
      } catch {
        t = 'int';
      }
      if (t !== 'str') this.fail(`non-string key ${JSON.stringify(r.value)} (quote it)`, token.offset);
    }
    return r.value;
  }

  private blockSeq(token: CST.BlockSequence, parent: ScalarContext): ListNode {
    const list: ListNode = { kind: 'list', items: [] };
    const ctx: ScalarContext = { indent: token.indent, step: parent.step, inFlow: false };
    for (const item of token.items) {
      const props: SourceTok[] = [];
      let at = token.offset;
      for (const t of item.start) {
        if (t.type === 'comment') list.items.push(this.comment(t));
        if (t.type === 'anchor' || t.type === 'tag') props.push(t);
        if (t.type === 'seq-item-ind') at = t.offset + 1;
      }
      const value = this.value(item.value, ctx, props, 'a sequence', at);
      for (const c of value.kind === 'scalar' ? inlineComments(item.value) : []) list.items.push(this.comment(c));
      list.items.push(asListItem(value));
    }
    return list;
  }

  private flowCollection(token: CST.FlowCollection, parent: ScalarContext): MapNode | ListNode {
    const isMap = token.start.source === '{';
    const closer = isMap ? '}' : ']';
    if (!token.end.some((t) => t.source === closer)) this.fail(`unclosed ${token.start.source}`, token.offset);
    const ctx: ScalarContext = { indent: parent.indent, step: parent.step, inFlow: true };
    const out: MapNode | ListNode = isMap ? { kind: 'map', items: [] } : { kind: 'list', items: [] };
    for (const item of token.items) {
      const comments = item.start.filter((t) => t.type === 'comment').map((t) => this.comment(t));
      const props = [...item.start, ...(item.sep ?? [])].filter((t) => t.type === 'anchor' || t.type === 'tag');
      if (isMap) {
        (out as MapNode).items.push(...comments);
        if (!item.key) this.fail('a flow mapping entry needs a key', token.offset);
        const key = this.key(item.key);
        const value = this.value(item.value, ctx, props, 'a flow mapping', item.sep?.find((t) => t.type === 'map-value-ind')?.offset ?? item.key.offset);
        this.layout.originCount++;
        (out as MapNode).items.push({ kind: 'entry', key, value, origin: { layout: this.layout } satisfies ItemOrigin });
      } else {
        (out as ListNode).items.push(...comments);
        if (item.key) this.fail('mappings inside flow sequences are not supported', item.key.offset);
        if (item.value) (out as ListNode).items.push(asListItem(this.value(item.value, ctx, props, 'a flow sequence')));
      }
    }
    for (const t of token.end) if (t.type === 'comment') (out.items as (Node | Comment)[]).push(this.comment(t));
    return out;
  }
}

/** An encrypted comment inside a list is stored by sops as an `ENC[...,type:comment]` element. */
function asListItem(value: Node): Node | Comment {
  if (value.kind === 'scalar' && value.type === 'str' && typeof value.value === 'string' && ENC_COMMENT.test(value.value)) {
    return { kind: 'comment', text: value.value, origin: { ...(value.origin as ScalarOrigin), text: value.value } };
  }
  return value;
}

function inlineComments(token: Tok | undefined | null): SourceTok[] {
  if (!token || !('end' in token) || !Array.isArray(token.end)) return [];
  return (token.end as SourceTok[]).filter((t) => t.type === 'comment');
}

function tokenEnd(token: unknown): number {
  let max = 0;
  const walk = (t: unknown): void => {
    if (!t || typeof t !== 'object') return;
    const o = t as { offset?: number; source?: unknown };
    if (typeof o.offset === 'number' && typeof o.source === 'string') max = Math.max(max, o.offset + o.source.length);
    for (const v of Object.values(t)) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') walk(v);
    }
  };
  walk(token);
  return max;
}

function stripOrigins<T>(node: T): T {
  return JSON.parse(JSON.stringify(node, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? { __bigint: v.toString() } : v)), (_k, v) =>
    v && typeof v === 'object' && '__bigint' in v ? BigInt(v.__bigint) : v,
  );
}

function countOrigins(node: unknown): number {
  let n = 0;
  const walk = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    const o = x as { origin?: unknown; items?: unknown[]; value?: unknown; kind?: string };
    if (o.origin) n++;
    if (Array.isArray(o.items)) o.items.forEach(walk);
    if (o.kind === 'entry') walk(o.value);
  };
  walk(node);
  return n;
}

export function parseYaml(input: Uint8Array, file?: string): ParsedFile {
  const source = Buffer.from(input).toString('utf8');
  const reader = new YamlReader(source, file);
  let result: { documents: MapNode[]; metadata?: MapNode };
  try {
    result = reader.read();
  } catch (e) {
    if (e instanceof RangeError) throw new InputError('invalid YAML: nesting too deep', file === undefined ? undefined : { file });
    throw e;
  }
  const parsed: ParsedFile = { format: 'yaml', documents: result.documents, layout: reader.layout };
  if (result.metadata) parsed.metadata = result.metadata;
  if (reader.warnings.length) parsed.warnings = reader.warnings;
  return parsed;
}
