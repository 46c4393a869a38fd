import type { Comment, Entry, MapNode, Node, ParsedFile, Scalar } from '../../tree.js';
import { canonicalDocument, sopsBlock } from './canonical.js';
import { metadataKey, type CommentOrigin, type DocLayout, type EntryOrigin, type ScalarOrigin, type YamlLayout } from './layout.js';
import { blockContentIndent, doubleQuoted, quoteTaggedString, renderScalar, type ScalarContext } from './render.js';

/**
 * Writes a file over its own source: only the scalars and comments the
 * document layer changed are re-rendered and the sops block is replaced,
 * added or dropped; every other byte stays as the user wrote it. A document
 * whose tree no longer matches its source (entries added, removed or moved,
 * aliases expanded) is written canonically instead.
 */

interface Edit {
  start: number;
  end: number;
  text: string;
  /** The text must start a line: a line break goes first when the output so far does not end with one. */
  ownLine?: boolean;
}

export function isYamlLayout(layout: unknown): layout is YamlLayout {
  return typeof layout === 'object' && layout !== null && typeof (layout as YamlLayout).source === 'string' && Array.isArray((layout as YamlLayout).docs);
}

export function emitWithLayout(file: ParsedFile, layout: YamlLayout, fallbackIndent: number): string | undefined {
  if (!file.documents.length || file.documents.length !== layout.docs.length) return undefined;
  const { source, eol } = layout;
  const withEol = (text: string): string => (eol === '\n' ? text : text.replace(/\n/g, eol));
  const block = file.metadata ? withEol(sopsBlock(file.metadata)) : undefined;
  const keepOldBlocks = file.metadata !== undefined && layout.metadataKey === metadataKey(file.metadata);
  let out = '';
  file.documents.forEach((doc, i) => {
    const d = layout.docs[i]!;
    const edits = d.spliceable && !(block && d.closedRoot) ? documentEdits(doc, i, d, layout) : undefined;
    if (!edits) {
      const bom = d.start === 0 && source.startsWith('\ufeff') ? '\ufeff' : '';
      out += bom + withEol((i > 0 || d.marker ? '---\n' : '') + canonicalDocument(doc, file.metadata, fallbackIndent));
      return;
    }
    for (const e of edits) e.text = withEol(e.text);
    if (d.sops) {
      if (!keepOldBlocks) edits.push({ start: d.sops.start, end: d.sops.end, text: block ?? '' });
    }
    else if (block) {
      // Decided on the output, not the source: an edit may have removed the source's last line break
      // (a block scalar ending the file without one, now an ENC value).
      edits.push({ start: d.insertAt, end: d.insertAt, text: block, ownLine: d.insertAt > 0 });
    }
    edits.sort((a, b) => a.start - b.start || a.end - b.end);
    let at = d.start;
    for (const e of edits) {
      out += source.slice(at, e.start);
      out += (e.ownLine && !out.endsWith('\n') ? eol : '') + e.text;
      at = e.end;
    }
    out += source.slice(at, d.end);
  });
  return out;
}

/** The edits that turn the document's source into its tree; undefined when the tree's shape left the source. */
function documentEdits(root: MapNode, docIndex: number, d: DocLayout, layout: YamlLayout): Edit[] | undefined {
  const edits: Edit[] = [];
  let ordinal = 0;
  const placed = (x: Node | Comment | Entry): boolean => {
    const o = x.origin as { layout?: unknown; doc?: number; ordinal?: number } | undefined;
    return o !== undefined && o.layout === layout && o.doc === docIndex && o.ordinal === ordinal++;
  };
  const visit = (node: Node | Comment): boolean => {
    if (node.kind === 'comment') {
      if (!placed(node)) return false;
      return commentEdit(layout, node.origin as CommentOrigin, node, edits);
    }
    if (node.kind === 'scalar') {
      if (!placed(node)) return false;
      const o = node.origin as ScalarOrigin;
      if (o.type !== node.type || !sameValue(o.value, node.value)) scalarEdits(layout, o, node, edits);
      return true;
    }
    for (const item of node.items) {
      if (item.kind === 'entry') {
        if (!placed(item) || (item.origin as EntryOrigin).key !== item.key || !visit(item.value)) return false;
      } else if (!visit(item)) return false;
    }
    return true;
  };
  if (!visit(root) || ordinal !== d.originCount) return undefined;
  return edits;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return Object.is(a, b);
}

function lineStart(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

function commentEdit(layout: YamlLayout, o: CommentOrigin, c: Comment, edits: Edit[]): boolean {
  if (c.text === o.text) return true;
  const { source } = layout;
  const ownLine = /^[ \t]*$/.test(source.slice(lineStart(source, o.start), o.start));
  const pad = ' '.repeat(o.start - lineStart(source, o.start));
  const text = ownLine ? c.text.split('\n').join(`\n${pad}#`) : c.text.replace(/\n/g, ' ');
  if (!o.element) {
    edits.push({ start: o.start, end: o.end, text: `#${text}` });
    return true;
  }
  // An encrypted comment stored as a `- ENC[...]` element becomes a comment line again, dash and all.
  let dash = o.start - 1;
  while (source[dash] === ' ') dash--;
  if (source[dash] !== '-') return false;
  const dashPad = ' '.repeat(dash - lineStart(source, dash));
  edits.push({ start: dash, end: o.end, text: `#${c.text.split('\n').join(`\n${dashPad}#`)}` });
  return true;
}

/** Column of the first non-blank line in a block scalar's old body. */
function bodyIndent(source: string, start: number, end: number): number | undefined {
  const m = /^( *)[^ \n\r]/m.exec(source.slice(start, end));
  return m ? m[1]!.length : undefined;
}

/**
 * Whether a new block scalar whose body ends at `after` leaves the following
 * lines as they were read: a deeper-indented line (a comment, say) would join
 * the body, and with `|+` so would blank lines.
 */
function blockFits(source: string, after: number, contentIndent: number, keep: boolean): boolean {
  const rest = /^((?:[ \t]*\r?\n)*)( *)(.?)/.exec(source.slice(after, after + 4096))!;
  if (keep && rest[1]!.length > 0 && rest[3] !== '') return false;
  return rest[3] === '' || rest[2]!.length < contentIndent;
}

function scalarEdits(layout: YamlLayout, o: ScalarOrigin, s: Scalar, edits: Edit[]): void {
  const { source } = layout;
  const ctx: ScalarContext = { ...o.ctx, step: layout.step };
  if (o.block) {
    const kept = bodyIndent(source, o.block.bodyStart, o.end);
    if (kept !== undefined) ctx.contentIndent = kept;
  }
  let r = o.customTag && s.type === 'str' && typeof s.value === 'string' && !s.value.includes('\n')
    ? { text: quoteTaggedString(s.value, ctx.inFlow), block: false }
    : renderScalar(s, ctx);
  if (r.block) {
    const after = o.block ? o.end : o.lineEnd;
    if (!blockFits(source, after, blockContentIndent(ctx), r.text.startsWith('|+') || /^\|\d\+/.test(r.text))) {
      r = { text: doubleQuoted(String(s.value)), block: false };
    }
  }
  if (o.tag) edits.push({ start: o.tag.start, end: o.tag.end, text: '' });
  const lead = o.emptyLead ?? '';
  if (!r.block) {
    if (!o.block) edits.push({ start: o.start, end: o.end, text: lead + r.text });
    else {
      edits.push({ start: o.start, end: o.block.headerEnd, text: r.text });
      edits.push({ start: o.block.bodyStart, end: o.end, text: '' });
    }
    return;
  }
  const newline = r.text.indexOf('\n');
  const header = r.text.slice(0, newline);
  const body = r.text.slice(newline + 1);
  if (o.block) {
    edits.push({ start: o.start, end: o.block.headerEnd, text: header });
    edits.push({ start: o.block.bodyStart, end: o.end, text: body + '\n' });
    return;
  }
  edits.push({ start: o.start, end: o.end, text: lead + header });
  const atEof = o.lineEnd === source.length && !source.endsWith('\n');
  edits.push({ start: o.lineEnd, end: o.lineEnd, text: atEof ? '\n' + body : body + '\n' });
}
