import type { Comment, Entry, ListNode, MapNode, Node, ParsedFile } from '../../tree.js';
import { isEncComment } from '../../enc-string.js';
import { renderKey, renderScalar } from './render.js';

/**
 * go-yaml v3's block layout, as sops writes files: for trees that have no
 * layout of their own (a new file, a format conversion) or lost it.
 */

const SOPS_INDENT = 4;

/** Where the next nesting level starts: the next multiple of the step past the owner's column. */
function deeper(column: number, step: number): number {
  return Math.floor(column / step) * step + step;
}

function commentLines(c: Comment, pad: string): string[] {
  return c.text.split('\n').map((line) => `${pad}#${line}`);
}

/** An inline comment rides on the line of the entry or list element that follows it. */
function takeInline<T extends Entry | Node | Comment>(items: T[], i: number, canRide: (next: T | undefined) => boolean): boolean {
  const item = items[i]!;
  return item.kind === 'comment' && item.inline === true && !item.text.includes('\n') && canRide(items[i + 1]);
}

export function canonicalMap(map: MapNode, indent: number, step: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  let rider = '';
  map.items.forEach((item, i) => {
    if (item.kind === 'comment') {
      if (takeInline(map.items, i, (next) => next?.kind === 'entry')) rider = ` #${item.text}`;
      else lines.push(...commentLines(item, pad));
      return;
    }
    const key = `${pad}${renderKey(item.key)}:`;
    const v = item.value;
    if (v.kind === 'scalar') {
      const r = renderScalar(v, { indent, step, inFlow: false });
      if (r.block) {
        const newline = r.text.indexOf('\n');
        lines.push(`${key} ${r.text.slice(0, newline)}${rider}${r.text.slice(newline)}`);
      } else lines.push(`${key} ${r.text}${rider}`);
    } else if (v.items.length === 0) {
      lines.push(`${key} ${v.kind === 'map' ? '{}' : '[]'}${rider}`);
    } else {
      lines.push(`${key}${rider}`);
      if (v.kind === 'map') canonicalMap(v, deeper(indent, step), step, lines);
      else canonicalList(v, deeper(indent, step), step, lines);
    }
    rider = '';
  });
}

export function canonicalList(list: ListNode, indent: number, step: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  let rider = '';
  list.items.forEach((item, i) => {
    if (item.kind === 'comment') {
      // sops writes an encrypted comment inside a list as a list element.
      if (isEncComment(item.text)) lines.push(`${pad}- ${item.text}`);
      else if (takeInline(list.items, i, (next) => next?.kind === 'scalar')) rider = ` #${item.text}`;
      else lines.push(...commentLines(item, pad));
      return;
    }
    if (item.kind === 'scalar') {
      const r = renderScalar(item, { indent, step, inFlow: false });
      if (r.block) {
        const newline = r.text.indexOf('\n');
        lines.push(`${pad}- ${r.text.slice(0, newline)}${rider}${r.text.slice(newline)}`);
      } else lines.push(`${pad}- ${r.text}${rider}`);
      rider = '';
      return;
    }
    if (item.items.length === 0) {
      lines.push(`${pad}- ${item.kind === 'map' ? '{}' : '[]'}`);
      return;
    }
    // A collection in a list starts right after `- `, unless its first line is a comment.
    const sub: string[] = [];
    if (item.kind === 'map') canonicalMap(item, indent + 2, step, sub);
    else canonicalList(item, indent + 2, step, sub);
    if (sub[0]!.startsWith(`${pad}  #`)) lines.push(`${pad}-`, ...sub);
    else lines.push(`${pad}- ${sub[0]!.slice(indent + 2)}`, ...sub.slice(1));
  });
}

export function sopsBlock(metadata: MapNode): string {
  const lines: string[] = [];
  canonicalMap({ kind: 'map', items: [{ kind: 'entry', key: 'sops', value: metadata }] }, 0, SOPS_INDENT, lines);
  return lines.join('\n') + '\n';
}

/** One document (ending in a newline), with the sops block when there is metadata. */
export function canonicalDocument(doc: MapNode, metadata: MapNode | undefined, indent: number): string {
  const lines: string[] = [];
  canonicalMap(doc, 0, indent, lines);
  const body = lines.length ? lines.join('\n') + '\n' : metadata ? '' : '{}\n';
  return metadata ? body + sopsBlock(metadata) : body;
}

export function emitCanonical(file: ParsedFile, indent: number): string {
  if (!file.documents.length && !file.metadata) return '';
  const docs = file.documents.length ? file.documents : [{ kind: 'map', items: [] } as MapNode];
  return docs.map((doc, i) => (i > 0 ? '---\n' : '') + canonicalDocument(doc, file.metadata, indent)).join('');
}

/** One value as standalone YAML text ending in a newline. */
export function canonicalValue(node: Node, indent: number): string {
  if (node.kind === 'scalar') {
    const r = renderScalar(node, { indent: 0, step: indent, inFlow: false });
    return r.text + '\n';
  }
  if (node.items.length === 0) return node.kind === 'map' ? '{}\n' : '[]\n';
  const lines: string[] = [];
  if (node.kind === 'map') canonicalMap(node, 0, indent, lines);
  else canonicalList(node, 0, indent, lines);
  return lines.join('\n') + '\n';
}
