import { CST } from 'yaml';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from '../../tree.js';
import type { CommentOrigin, DocLayout, EntryOrigin, ScalarOrigin, YamlLayout } from './layout.js';
import type { ScalarContext } from './render.js';
import { resolvePlain } from './resolve.js';
import { asListItem, numberOrigins, withoutComments } from './tree-shape.js';

/**
 * A line scanner for the plain block YAML that sops writes and most secrets
 * files are: block maps and sequences, one-line scalars, `|` literals and
 * comment lines. It builds exactly what the CST reader (parse.ts) builds, tree
 * and layout alike, at a fraction of the cost, and returns undefined at the
 * first thing outside that subset (flow collections, anchors, tags, folded or
 * multi-line scalars, several documents, tabs, CRLF, anything malformed), so
 * the CST reader takes over, with its errors. Tests check the two agree.
 */

const MAX_DEPTH = 100;

/** Thrown to leave the fast path; never escapes this module. */
class NotSimple extends Error {}

function bail(): never {
  throw new NotSimple();
}

interface Frame {
  kind: 'map' | 'seq';
  indent: number;
  parentIndent: number;
  node: MapNode | ListNode;
  ctx: ScalarContext;
  seen?: Set<string>;
  /** Root-level: the `sops` entry is being read. */
  inSops: boolean;
}

/** A key whose value is on the following lines (or is empty). */
interface OpenKey {
  frame: Frame;
  key: string;
  /** Just after the colon: where an empty value sits. */
  valueAt: number;
}

export interface SimpleRead {
  documents: MapNode[];
  metadata?: MapNode;
  layout: YamlLayout;
}

export function readSimpleYaml(source: string): SimpleRead | undefined {
  if (source.includes('\r') || source.includes('\t') || source.charCodeAt(0) === 0xfeff) return undefined;
  try {
    return new SimpleReader(source).read();
  } catch (e) {
    if (e instanceof NotSimple) return undefined;
    throw e;
  }
}

class SimpleReader {
  readonly layout: YamlLayout;
  private readonly doc: DocLayout;
  private stack: Frame[] = [];
  private pending: { column: number; comment: Comment }[] = [];
  private open: OpenKey | undefined;
  /** Column of the last line's scalar owner: deeper content lines would continue the scalar. */
  private scalarOwner = -1;
  private stepFound = false;
  /** Where the root's `sops:` line starts. */
  private sopsLine = -1;

  constructor(private readonly source: string) {
    this.layout = { source, docs: [], step: 4, eol: '\n' };
    this.doc = { start: 0, end: source.length, insertAt: source.length, marker: false, originCount: 0, spliceable: true, closedRoot: false };
    this.layout.docs.push(this.doc);
  }

  read(): SimpleRead {
    const root: MapNode = { kind: 'map', items: [] };
    this.stack.push({ kind: 'map', indent: 0, parentIndent: -1, node: root, ctx: { indent: 0, step: 0, inFlow: false }, seen: new Set(), inSops: false });
    const s = this.source;
    let sawContent = false;
    let pos = 0;
    while (pos < s.length) {
      let eol = s.indexOf('\n', pos);
      if (eol < 0) eol = s.length;
      let col = pos;
      while (s.charCodeAt(col) === 32) col++;
      if (col === eol) {
        pos = eol + 1;
        continue;
      }
      const column = col - pos;
      const ch = s.charCodeAt(col);
      if (ch === 35 /* # */) {
        const comment: Comment = { kind: 'comment', text: s.slice(col + 1, eol), origin: this.commentOrigin(col, eol) };
        this.pending.push({ column, comment });
        pos = eol + 1;
        continue;
      }
      if (column === 0 && (s.startsWith('---', col) || s.startsWith('...', col) || ch === 37 /* % */)) bail();
      sawContent = true;
      pos = this.contentLine(pos, col, column, eol);
    }
    if (!sawContent || this.pending.length) bail();
    this.closeOpenKey(-1);
    const sops = this.takeSops(root);
    this.doc.originCount = numberOrigins(root);
    const documents = [root];
    return sops ? { documents, metadata: withoutComments(sops), layout: this.layout } : { documents, layout: this.layout };
  }

  /** Reads one line holding content; returns where the next line starts. */
  private contentLine(lineStart: number, col: number, column: number, eol: number): number {
    const s = this.source;
    if (this.scalarOwner >= 0 && column > this.scalarOwner) bail();
    this.scalarOwner = -1;
    const dash = s.charCodeAt(col) === 45 && (col + 1 === eol || s.charCodeAt(col + 1) === 32);
    if (this.open) {
      const o = this.open;
      if (column > o.frame.indent || (dash && column === o.frame.indent)) {
        this.open = undefined;
        if (this.stack.length > MAX_DEPTH) bail();
        const ctx: ScalarContext = { indent: column, step: 0, inFlow: false };
        const node: MapNode | ListNode = dash ? { kind: 'list', items: [] } : { kind: 'map', items: [] };
        if (!this.stepFound && !o.frame.inSops && column > o.frame.indent) {
          this.layout.step = column - o.frame.indent;
          this.stepFound = true;
        }
        this.takePending(column, node.items as (Entry | Comment)[]);
        itemsOf(o.frame).push(this.entry(o.key, node));
        const frame: Frame = { kind: dash ? 'seq' : 'map', indent: column, parentIndent: o.frame.indent, node, ctx, inSops: o.frame.inSops };
        if (!dash) frame.seen = new Set();
        this.stack.push(frame);
        return this.item(frame, lineStart, col, column, eol, dash);
      }
      this.closeOpenKey(column);
    }
    // Leave the collections this line is not part of.
    let top = this.stack[this.stack.length - 1]!;
    while (top.indent > column || (top.kind === 'seq' && top.indent === column && !dash && top.parentIndent === column)) {
      this.stack.pop();
      top = this.stack[this.stack.length - 1]!;
      if (!top) bail();
    }
    if (top.indent !== column) bail();
    if ((top.kind === 'seq') !== dash) bail();
    this.takePending(column, top.node.items as (Entry | Comment)[]);
    return this.item(top, lineStart, col, column, eol, dash);
  }

  /** Comments waiting for a place go before the next content, when they line up with it. */
  private takePending(column: number, items: (Entry | Comment | Node)[]): void {
    for (const p of this.pending) {
      if (p.column !== column) bail();
      items.push(p.comment);
    }
    this.pending = [];
  }

  /** A key that ended its line with nothing after the colon, and no deeper line followed: its value is empty (null). */
  private closeOpenKey(nextColumn: number): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    // Comments between an empty value and the next key: the CST reader's placement is subtle; leave them to it.
    if (this.pending.length) bail();
    if (nextColumn >= 0 && nextColumn > o.frame.indent) bail();
    const s = this.source;
    const newline = s.indexOf('\n', o.valueAt);
    const lineEnd = newline < 0 ? s.length : newline + 1;
    const origin: ScalarOrigin = { layout: this.layout, doc: 0, ordinal: -1, start: o.valueAt, end: o.valueAt, lineEnd, ctx: o.frame.ctx, type: 'null', value: null, emptyLead: ' ' };
    itemsOf(o.frame).push(this.entry(o.key, { kind: 'scalar', type: 'null', value: null, origin }));
  }

  /** A map entry or a sequence element starting at `col`. */
  private item(frame: Frame, lineStart: number, col: number, column: number, eol: number, dash: boolean): number {
    const s = this.source;
    if (!dash) return this.mapEntry(frame, lineStart, col, eol);
    let at = col + 1;
    while (s.charCodeAt(at) === 32) at++;
    if (at >= eol) bail();
    const colon = this.keyEnd(at, eol);
    if (colon >= 0) {
      // `- key: value`: a map whose first key sits after the dash.
      if (this.stack.length > MAX_DEPTH) bail();
      const mapColumn = at - lineStart;
      const map: MapNode = { kind: 'map', items: [] };
      const mapFrame: Frame = { kind: 'map', indent: mapColumn, parentIndent: column, node: map, ctx: { indent: mapColumn, step: 0, inFlow: false }, seen: new Set(), inSops: frame.inSops };
      frame.node.items.push(map as never);
      this.stack.push(mapFrame);
      return this.mapEntry(mapFrame, lineStart, at, eol);
    }
    const list = frame.node as ListNode;
    if (s.charCodeAt(at) === 124 /* | */) {
      const read = this.literal(at, eol, frame);
      list.items.push(read.node);
      return read.next;
    }
    const read = this.scalar(at, eol, frame.ctx);
    list.items.push(...read.inline);
    list.items.push(asListItem(read.node));
    this.scalarOwner = column;
    return read.next;
  }

  private mapEntry(frame: Frame, lineStart: number, col: number, eol: number): number {
    const s = this.source;
    const colon = this.keyEnd(col, eol);
    if (colon < 0) bail();
    const key = this.key(col, colon);
    if (frame.seen!.has(key)) bail();
    frame.seen!.add(key);
    if (frame.parentIndent < 0) {
      frame.inSops = key === 'sops';
      if (frame.inSops) this.sopsLine = lineStart;
    }
    let at = colon + 1;
    while (s.charCodeAt(at) === 32) at++;
    if (at >= eol) {
      this.open = { frame, key, valueAt: colon + 1 };
      return eol + 1;
    }
    const ch = s.charCodeAt(at);
    if (ch === 35 /* # */) bail();
    if (ch === 124 /* | */) {
      const read = this.literal(at, eol, frame);
      itemsOf(frame).push(this.entry(key, read.node));
      if (frame.parentIndent < 0 && key === 'sops') bail();
      return read.next;
    }
    const read = this.scalar(at, eol, frame.ctx);
    itemsOf(frame).push(...read.inline);
    itemsOf(frame).push(this.entry(key, read.node));
    if (frame.parentIndent < 0 && key === 'sops') bail();
    this.scalarOwner = col - lineStart;
    return read.next;
  }

  /** The colon ending a simple key that starts at `at`, or -1 when the text there is not `key:`. */
  private keyEnd(at: number, eol: number): number {
    const s = this.source;
    const ch = s.charCodeAt(at);
    if (ch === 34 /* " */ || ch === 39 /* ' */) {
      const close = this.quoteEnd(at, eol);
      if (close < 0) return -1;
      return s.charCodeAt(close) === 58 && (close + 1 === eol || s.charCodeAt(close + 1) === 32) ? close : -1;
    }
    for (let i = at; i < eol; i++) {
      const c = s.charCodeAt(i);
      if (c === 58 /* : */ && (i + 1 === eol || s.charCodeAt(i + 1) === 32)) return i;
      if (c === 35 /* # */ && s.charCodeAt(i - 1) === 32) return -1;
    }
    return -1;
  }

  private key(at: number, colon: number): string {
    const s = this.source;
    const ch = s.charCodeAt(at);
    if (ch === 34 || ch === 39) return this.quoted(at, colon).value;
    const text = s.slice(at, colon);
    if (!isPlainStart(text) || text.endsWith(' ')) bail();
    let type: Scalar['type'];
    try {
      type = resolvePlain(text).type;
    } catch {
      bail();
    }
    if (type !== 'str') bail();
    return text;
  }

  /** Index just past the closing quote of the quoted scalar at `at` on this line, or -1. */
  private quoteEnd(at: number, eol: number): number {
    const s = this.source;
    const q = s.charCodeAt(at);
    for (let i = at + 1; i < eol; i++) {
      const c = s.charCodeAt(i);
      if (q === 34 && c === 92 /* \ */) {
        i++;
        continue;
      }
      if (c === q) {
        if (q === 39 && s.charCodeAt(i + 1) === 39) {
          i++;
          continue;
        }
        return i + 1;
      }
    }
    return -1;
  }

  private quoted(at: number, end: number): { value: string } {
    const s = this.source;
    const token = { type: s.charCodeAt(at) === 34 ? 'double-quoted-scalar' : 'single-quoted-scalar', offset: at, indent: 0, source: s.slice(at, end) } as CST.FlowScalar;
    let problem = false;
    const r = CST.resolveAsScalar(token, true, () => (problem = true));
    if (problem) bail();
    return { value: r.value };
  }

  /** A one-line flow scalar (plain or quoted), or an empty `[]` / `{}` (older sops writes `kms: []`), and what follows it on its line. */
  private scalar(at: number, eol: number, ctx: ScalarContext): { node: Scalar | ListNode | MapNode; inline: Comment[]; next: number } {
    const s = this.source;
    const ch = s.charCodeAt(at);
    if (ch === 91 /* [ */ || ch === 123 /* { */) {
      if (s.charCodeAt(at + 1) !== ch + 2) bail();
      const inline = this.lineComment(at + 2, at + 2, eol);
      return { node: ch === 91 ? { kind: 'list', items: [] } : { kind: 'map', items: [] }, inline, next: eol + 1 };
    }
    let end: number;
    let type: Scalar['type'] = 'str';
    let value: Scalar['value'];
    if (ch === 34 || ch === 39) {
      end = this.quoteEnd(at, eol);
      if (end < 0) bail();
      value = this.quoted(at, end).value;
    } else {
      end = eol;
      for (let i = at; i < eol; i++) {
        const c = s.charCodeAt(i);
        if (c === 35 && s.charCodeAt(i - 1) === 32) {
          end = i;
          break;
        }
        if (c === 58 && (i + 1 === eol || s.charCodeAt(i + 1) === 32)) bail();
      }
      while (s.charCodeAt(end - 1) === 32) end--;
      const text = s.slice(at, end);
      if (!isPlainStart(text)) bail();
      try {
        ({ type, value } = resolvePlain(text));
      } catch {
        bail();
      }
    }
    const inline = this.lineComment(end, end, eol);
    const lineEnd = eol < s.length ? eol + 1 : eol;
    const origin: ScalarOrigin = { layout: this.layout, doc: 0, ordinal: -1, start: at, end, lineEnd, ctx, type, value };
    return { node: { kind: 'scalar', type, value, origin }, inline, next: eol + 1 };
  }

  /** Nothing, or ` # comment`, from `from` to the end of the line. */
  private lineComment(from: number, valueEnd: number, eol: number): Comment[] {
    const s = this.source;
    let rest = from;
    while (s.charCodeAt(rest) === 32) rest++;
    if (rest >= eol) return [];
    if (s.charCodeAt(rest) !== 35 || rest === valueEnd) bail();
    return [{ kind: 'comment', text: s.slice(rest + 1, eol), inline: true, origin: this.commentOrigin(rest, eol) }];
  }

  /** A `|`, `|-` or `|+` literal whose body lines are all indented alike or deeper. */
  private literal(at: number, eol: number, frame: Frame): { node: Scalar; next: number } {
    const s = this.source;
    const header = s.slice(at, eol);
    if (header !== '|' && header !== '|-') bail();
    const bodyStart = eol + 1;
    if (bodyStart >= s.length) bail();
    let contentIndent = -1;
    const lines: string[] = [];
    let pos = bodyStart;
    let bodyEnd = bodyStart;
    while (pos < s.length) {
      let lineEnd = s.indexOf('\n', pos);
      if (lineEnd < 0) bail();
      let c = pos;
      while (s.charCodeAt(c) === 32) c++;
      if (c === lineEnd) {
        if (c !== pos || contentIndent < 0) bail();
        lines.push('');
        pos = lineEnd + 1;
        continue;
      }
      const column = c - pos;
      if (contentIndent < 0) {
        if (column <= frame.indent) bail();
        contentIndent = column;
      } else if (column < contentIndent) break;
      lines.push(s.slice(pos + contentIndent, lineEnd));
      pos = lineEnd + 1;
      bodyEnd = pos;
    }
    // Trailing empty lines: where they belong (body or next content) is the CST reader's call.
    if (contentIndent < 0 || pos !== bodyEnd) bail();
    let value = lines.join('\n');
    if (header !== '|-') value += '\n';
    const origin: ScalarOrigin = {
      layout: this.layout,
      doc: 0,
      ordinal: -1,
      start: at,
      end: bodyEnd,
      lineEnd: bodyStart,
      block: { headerEnd: eol, bodyStart },
      ctx: frame.ctx,
      type: 'str',
      value,
    };
    this.scalarOwner = -1;
    return { node: { kind: 'scalar', type: 'str', value, origin }, next: bodyEnd };
  }

  private entry(key: string, value: Node): Entry {
    const origin: EntryOrigin = { layout: this.layout, doc: 0, ordinal: -1, key };
    return { kind: 'entry', key, value, origin };
  }

  private commentOrigin(start: number, end: number): CommentOrigin {
    return { layout: this.layout, doc: 0, ordinal: -1, start, end, text: this.source.slice(start + 1, end) };
  }

  /** Moves the root's `sops` entry out, remembering its lines (emit replaces or drops them). */
  private takeSops(root: MapNode): MapNode | undefined {
    const at = root.items.findIndex((it) => it.kind === 'entry' && it.key === 'sops');
    if (at < 0) return undefined;
    const entry = root.items[at] as Entry;
    if (entry.value.kind !== 'map' || this.sopsLine < 0) bail();
    root.items.splice(at, 1);
    const end = lastScalarEnd(entry.value);
    if (end < 0) bail();
    const newline = this.source.indexOf('\n', end);
    this.doc.sops = { start: this.sopsLine, end: newline < 0 ? this.source.length : newline + 1 };
    return entry.value;
  }
}

function itemsOf(frame: Frame): (Entry | Comment | Node)[] {
  return frame.node.items as (Entry | Comment | Node)[];
}

/** A plain scalar may not start with an indicator character (or `- `, `? `, `: `). */
function isPlainStart(text: string): boolean {
  if (!text) return false;
  const c = text[0]!;
  if ('[]{},#&*!|>\'"%@`'.includes(c)) return false;
  if ((c === '-' || c === '?' || c === ':') && (text.length === 1 || text[1] === ' ')) return false;
  return true;
}

/** End offset of the last scalar in a subtree (the end of the sops block's content). */
function lastScalarEnd(node: Node): number {
  let max = -1;
  const stack: Node[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.kind === 'scalar') {
      const o = n.origin as ScalarOrigin | undefined;
      if (o) max = Math.max(max, o.end);
    } else {
      for (const it of n.items) {
        if (it.kind === 'entry') stack.push(it.value);
        else if (it.kind !== 'comment') stack.push(it);
      }
    }
  }
  return max;
}
