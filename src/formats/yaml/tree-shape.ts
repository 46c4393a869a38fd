import type { Comment, Entry, MapNode, Node } from '../../tree.js';
import { isEncComment } from '../../enc-string.js';
import type { CommentOrigin, ScalarOrigin } from './layout.js';

/** What both YAML readers (the CST reader and the line scanner) do to the trees they build. */

/** sops writes an encrypted comment inside a list as an `ENC[...,type:comment]` element. */
export function asListItem(value: Node): Node | Comment {
  if (value.kind === 'scalar' && value.type === 'str' && typeof value.value === 'string' && isEncComment(value.value)) {
    const o = value.origin as ScalarOrigin;
    const origin: CommentOrigin = { layout: o.layout, doc: o.doc, ordinal: -1, start: o.start, end: o.end, text: value.value, element: true };
    return { kind: 'comment', text: value.value, origin };
  }
  return value;
}

/** The metadata tree without the comments a reader attached to it. */
export function withoutComments(node: MapNode): MapNode {
  const strip = (n: Node): Node => {
    if (n.kind === 'scalar') return n;
    if (n.kind === 'list') return { kind: 'list', items: n.items.filter((i): i is Node => i.kind !== 'comment').map(strip) };
    return { kind: 'map', items: n.items.filter((i): i is Entry => i.kind === 'entry').map((e) => ({ kind: 'entry', key: e.key, value: strip(e.value) })) };
  };
  return strip(node) as MapNode;
}

/** Numbers every origin in tree-walk order (the order emit walks); returns how many there are. */
export function numberOrigins(root: MapNode): number {
  let n = 0;
  const stack: (Node | Comment | Entry)[] = [root];
  while (stack.length) {
    const x = stack.pop()!;
    const o = x.origin as { ordinal?: number } | undefined;
    if (o && x.kind !== 'map' && x.kind !== 'list') o.ordinal = n++;
    if (x.kind === 'entry') stack.push(x.value);
    else if (x.kind === 'map' || x.kind === 'list') for (let i = x.items.length - 1; i >= 0; i--) stack.push(x.items[i]!);
  }
  return n;
}
