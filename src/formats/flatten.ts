import { MalformedFileError } from '../errors.js';
import type { Entry, MapNode, Node } from '../tree.js';

/**
 * The flat key scheme dotenv and INI use for the sops metadata (docs/format.md#flat-metadata):
 * a path is written as the top-level key followed by `__map_<key>` for each
 * map step and `__list_<i>` for each list step.
 */

const MAP_SEPARATOR = '__map_';
const LIST_SEPARATOR = '__list_';

/**
 * Depth first, map keys in byte order, as sops writes them. Empty maps and
 * lists have no leaf, so they produce nothing; null leaves are left out too
 * (sops skips them). Scalars are written in their plain text form.
 */
export function flattenMetadata(metadata: MapNode): [string, string][] {
  const out: [string, string][] = [];
  const walk = (node: Node, path: string): void => {
    switch (node.kind) {
      case 'scalar':
        if (node.value !== null) out.push([path, scalarText(node.value)]);
        return;
      case 'list': {
        let index = 0;
        for (const item of node.items) if (item.kind !== 'comment') walk(item, `${path}${LIST_SEPARATOR}${index++}`);
        return;
      }
      case 'map':
        for (const entry of sortedEntries(node)) walk(entry.value, path === '' ? entry.key : `${path}${MAP_SEPARATOR}${entry.key}`);
    }
  };
  for (const entry of sortedEntries(metadata)) walk(entry.value, entry.key);
  return out;
}

function scalarText(value: string | bigint | number | boolean | Uint8Array): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

function sortedEntries(node: MapNode): Entry[] {
  const entries = node.items.filter((i): i is Entry => i.kind === 'entry');
  // Byte order, as Go sorts strings; UTF-16 order differs above U+FFFF.
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')));
}

/** A tree under construction: lists are sparse until the end, since indices may come in any order. */
type Building = { kind: 'map'; entries: Map<string, Building> } | { kind: 'list'; items: Map<number, Building> } | { kind: 'leaf'; value: string };

/**
 * Rebuilds the metadata tree from flat pairs (any order). Every leaf is a str
 * scalar: the metadata reader converts types loosely. A later pair for the
 * same key wins. Throws {@link MalformedFileError} when two keys disagree
 * about the shape (`a` is both a value and a map, say).
 */
export function unflattenMetadata(pairs: [string, string][]): MapNode {
  const root: Building = { kind: 'map', entries: new Map() };
  for (const [flatKey, value] of pairs) {
    const steps = splitFlatKey(flatKey);
    let node: Building = root;
    steps.forEach((step, i) => {
      const last = i === steps.length - 1;
      const nextIsList = !last && steps[i + 1]!.list;
      const wanted: Building['kind'] = last ? 'leaf' : nextIsList ? 'list' : 'map';
      const existing: Building | undefined = step.list ? (node as Extract<Building, { kind: 'list' }>).items.get(step.index) : (node as Extract<Building, { kind: 'map' }>).entries.get(step.key);
      let child: Building;
      if (existing && existing.kind === wanted && wanted !== 'leaf') {
        child = existing;
      } else {
        if (existing && (existing.kind !== 'leaf' || wanted !== 'leaf')) {
          throw new MalformedFileError(`sops metadata key ${flatKey} conflicts with another metadata key`);
        }
        child = wanted === 'leaf' ? { kind: 'leaf', value } : wanted === 'list' ? { kind: 'list', items: new Map() } : { kind: 'map', entries: new Map() };
        if (step.list) (node as Extract<Building, { kind: 'list' }>).items.set(step.index, child);
        else (node as Extract<Building, { kind: 'map' }>).entries.set(step.key, child);
      }
      node = child;
    });
  }
  return finish(root) as MapNode;
}

type Step = { list: false; key: string } | { list: true; index: number };

function splitFlatKey(flatKey: string): Step[] {
  const parts = flatKey.split(/(?=__map_|__list_\d+(?:__|$))/);
  return parts.map((part, i): Step => {
    if (i > 0 && part.startsWith(LIST_SEPARATOR)) return { list: true, index: Number(part.slice(LIST_SEPARATOR.length)) };
    if (i > 0) return { list: false, key: part.slice(MAP_SEPARATOR.length) };
    return { list: false, key: part };
  });
}

function finish(node: Building): Node {
  switch (node.kind) {
    case 'leaf':
      return { kind: 'scalar', type: 'str', value: node.value };
    case 'list':
      return { kind: 'list', items: [...node.items.entries()].sort(([a], [b]) => a - b).map(([, child]) => finish(child)) };
    case 'map':
      return { kind: 'map', items: [...node.entries.entries()].map(([key, child]): Entry => ({ kind: 'entry', key, value: finish(child) })) };
  }
}
