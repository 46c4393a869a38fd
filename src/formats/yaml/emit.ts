import type { Comment, ListNode, MapNode, Node, ParsedFile, Scalar } from '../../tree.js';
import type { CommentOrigin, ScalarOrigin, YamlLayout } from './parse.js';
import { renderKey, renderScalar } from './render.js';

const SOPS_INDENT = 4;

/** go-yaml's block layout for trees that have no layout of their own (or lost it). */
export function emitCanonicalMap(map: MapNode, indent: number, step: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of map.items) {
    if (item.kind === 'comment') {
      lines.push(`${pad}#${item.text}`);
      continue;
    }
    const key = `${pad}${renderKey(item.key)}:`;
    const v = item.value;
    if (v.kind === 'scalar') {
      lines.push(`${key} ${renderScalar(v, { indent, step, inFlow: false }).text}`);
    } else if (v.items.length === 0) {
      lines.push(`${key} ${v.kind === 'map' ? '{}' : '[]'}`);
    } else {
      lines.push(key);
      if (v.kind === 'map') emitCanonicalMap(v, indent + step, step, lines);
      else emitCanonicalList(v, indent + step, step, lines);
    }
  }
}

export function emitCanonicalList(list: ListNode, indent: number, step: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of list.items) {
    if (item.kind === 'comment') {
      lines.push(`${pad}#${item.text}`);
    } else if (item.kind === 'scalar') {
      lines.push(`${pad}- ${renderScalar(item, { indent, step, inFlow: false }).text}`);
    } else if (item.items.length === 0) {
      lines.push(`${pad}- ${item.kind === 'map' ? '{}' : '[]'}`);
    } else if (item.kind === 'map' && item.items[0]!.kind === 'entry') {
      const sub: string[] = [];
      emitCanonicalMap(item, indent + 2, step, sub);
      sub[0] = `${pad}- ${sub[0]!.slice(indent + 2)}`;
      lines.push(...sub);
    } else {
      lines.push(`${pad}-`);
      if (item.kind === 'map') emitCanonicalMap(item, indent + 2, step, lines);
      else emitCanonicalList(item, indent + 2, step, lines);
    }
  }
}

export function sopsBlock(metadata: MapNode): string {
  const lines: string[] = [];
  emitCanonicalMap({ kind: 'map', items: [{ kind: 'entry', key: 'sops', value: metadata }] }, 0, SOPS_INDENT, lines);
  return lines.join('\n') + '\n';
}

export function emitCanonical(file: ParsedFile, indent: number): string {
  const out: string[] = [];
  const docs = file.documents.length ? file.documents : [{ kind: 'map', items: [] } as MapNode];
  docs.forEach((doc, i) => {
    if (i > 0) out.push('---\n');
    const lines: string[] = [];
    emitCanonicalMap(doc, 0, indent, lines);
    if (lines.length) out.push(lines.join('\n') + '\n');
    else if (!file.metadata) out.push('{}\n');
    if (file.metadata) out.push(sopsBlock(file.metadata));
  });
  return out.join('');
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Writes the file over its own source: only changed scalars and comments are
 * re-rendered, the sops block is replaced, added or dropped; every other byte
 * stays as the user wrote it. Undefined when the tree's shape no longer fits
 * the source (entries added or removed, aliases expanded).
 */
export function emitWithLayout(file: ParsedFile, layout: YamlLayout): string | undefined {
  if (layout.docs.some((d) => d.hasAliases) || layout.docs.length !== file.documents.length) return undefined;
  const edits: Edit[] = [];
  let seen = 0;
  let foreign = false;
  const visitComment = (c: Comment): void => {
    const o = c.origin as CommentOrigin | undefined;
    if (!o || o.layout !== layout) {
      foreign = true;
      return;
    }
    seen++;
    if (c.text === o.text) return;
    // An encrypted list comment was a `- ENC[...]` element: its line has to be rebuilt.
    if ('ctx' in o) foreign = true;
    else edits.push({ start: o.start, end: o.end, text: `#${c.text}` });
  };
  const visitScalar = (s: Scalar): void => {
    const o = s.origin as ScalarOrigin | undefined;
    if (!o || o.layout !== layout) {
      foreign = true;
      return;
    }
    seen++;
    if (o.type === s.type && sameScalarValue(o.value, s.value)) return;
    edits.push(rewriteScalar(layout, o, s));
  };
  const visit = (node: Node | Comment): void => {
    if (foreign) return;
    if (node.kind === 'comment') return visitComment(node);
    if (node.kind === 'scalar') return visitScalar(node);
    for (const item of node.items) {
      if (item.kind === 'entry') {
        if (!item.origin || (item.origin as { layout?: unknown }).layout !== layout) {
          foreign = true;
          return;
        }
        seen++;
        visit(item.value);
      } else visit(item);
    }
  };
  file.documents.forEach(visit);
  if (foreign || seen !== layout.originCount) return undefined;

  const block = file.metadata ? sopsBlock(file.metadata) : undefined;
  layout.docs.forEach((doc) => {
    if (doc.sops) edits.push({ start: doc.sops.start, end: doc.sops.end, text: block ?? '' });
    else if (block) {
      const before = layout.source.slice(0, doc.end);
      edits.push({ start: doc.end, end: doc.end, text: (before.length && !before.endsWith('\n') ? '\n' : '') + block });
    }
  });
  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += layout.source.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + layout.source.slice(at);
}

function sameScalarValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return Object.is(a, b);
}

function rewriteScalar(layout: YamlLayout, o: ScalarOrigin, s: Scalar): Edit {
  const r = renderScalar(s, { ...o.ctx, step: layout.step });
  const lead = o.empty ? ' ' : '';
  const comment = o.trailingComment ? ` ${o.trailingComment}` : '';
  if (!r.block) {
    if (o.wasBlock) return { start: o.start, end: o.end, text: `${r.text}${comment}\n` };
    return { start: o.start, end: o.end, text: lead + r.text };
  }
  const newline = r.text.indexOf('\n');
  const header = r.text.slice(0, newline);
  const body = r.text.slice(newline);
  if (o.wasBlock) return { start: o.start, end: o.end, text: `${header}${comment}${body}\n` };
  const endsLine = layout.source[o.lineEnd - 1] === '\n';
  return { start: o.start, end: o.lineEnd, text: `${lead}${header}${comment}${body}${endsLine ? '\n' : ''}` };
}
