import type { MapNode, Node } from '../tree.js';

/**
 * The flat key scheme dotenv and INI use for the `sops` metadata (spec §7.4):
 * `__map_<key>` and `__list_<i>` path segments, map keys sorted, empty lists
 * written as nothing.
 */
export function flattenMetadata(metadata: MapNode): [string, string][] {
  const out: [string, string][] = [];
  const walk = (node: Node, prefix: string): void => {
    if (node.kind === 'scalar') {
      const v = node.value;
      out.push([prefix, v === null ? '' : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v)]);
    } else if (node.kind === 'list') {
      node.items.filter((i): i is Node => i.kind !== 'comment').forEach((item, i) => walk(item, `${prefix}__list_${i}`));
    } else {
      const entries = node.items.flatMap((i) => (i.kind === 'entry' ? [i] : []));
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const e of entries) walk(e.value, prefix === '' ? e.key : `${prefix}__map_${e.key}`);
    }
  };
  walk(metadata, '');
  return out;
}

export function unflattenMetadata(pairs: [string, string][]): MapNode {
  const root: MapNode = { kind: 'map', items: [] };
  for (const [flatKey, value] of pairs) {
    const segments = flatKey.split(/(?=__map_|__list_)/);
    let node: Node = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const listIndex = /^__list_(\d+)$/.exec(segment);
      const key = i === 0 ? segment : segment.replace(/^__map_/, '');
      const next = segments[i + 1];
      const fresh = (): Node => (last ? { kind: 'scalar', type: 'str', value } : next!.startsWith('__list_') ? { kind: 'list', items: [] } : { kind: 'map', items: [] });
      if (listIndex && node.kind === 'list') {
        const idx = Number(listIndex[1]);
        const items = node.items as Node[];
        while (items.length <= idx) items.push(undefined as unknown as Node);
        items[idx] ??= fresh();
        node = items[idx]!;
      } else if (node.kind === 'map') {
        let entry = node.items.find((e) => e.kind === 'entry' && e.key === key);
        if (!entry) {
          entry = { kind: 'entry', key, value: fresh() };
          node.items.push(entry);
        }
        if (entry.kind === 'entry') node = entry.value;
      }
    });
  }
  const fill = (node: Node): void => {
    if (node.kind === 'list') node.items = node.items.filter((i) => i !== undefined);
    if (node.kind !== 'scalar') for (const i of node.items) if (i.kind === 'entry') fill(i.value); else if (i.kind !== 'comment') fill(i);
  };
  fill(root);
  return root;
}
