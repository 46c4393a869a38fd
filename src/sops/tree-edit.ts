import { TsopsError, type ErrorKind } from '../errors.js';
import type { Entry, ListNode, MapNode, Node, Scalar } from '../tree.js';

/** One step of a tree path: a map key or a list index (`["a"][0]`). */
export type PathStep = string | number;

class TreePathError extends TsopsError {
  constructor(message: string, kind: ErrorKind = 'failed') {
    super(message, kind);
  }
}

export function formatPath(path: readonly PathStep[]): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : `[${JSON.stringify(s)}]`)).join('');
}

function listValues(list: ListNode): Node[] {
  return list.items.filter((i): i is Node => i.kind !== 'comment');
}

/** The node at `path`, or undefined. */
export function getAtPath(root: Node, path: readonly PathStep[]): Node | undefined {
  let node: Node | undefined = root;
  for (const step of path) {
    if (!node) return undefined;
    if (typeof step === 'number') {
      node = node.kind === 'list' ? listValues(node)[step] : undefined;
    } else if (node.kind === 'map') {
      let found: Node | undefined;
      for (const item of node.items) if (item.kind === 'entry' && item.key === step) found = item.value;
      node = found;
    } else {
      node = undefined;
    }
  }
  return node;
}

/**
 * Sets the value at `path` as sops does (docs/format.md#tree-paths): missing map keys are
 * created at the end of their map, an index past the end of a list appends, a
 * scalar in the middle of the path is replaced by a container. A scalar that
 * is replaced keeps its node identity (and so its place in the file's layout).
 * Returns false when the value there was already equal (nothing changed).
 */
export function setAtPath(root: MapNode, path: readonly PathStep[], value: Node): boolean {
  if (path.length === 0) throw new TreePathError('the path must name at least one key', 'bad-set-argument');
  let parent: Node = root;
  for (let i = 0; i < path.length; i++) {
    const step = path[i]!;
    const last = i === path.length - 1;
    const nextStep = path[i + 1];
    const fresh = (): Node => (last ? value : typeof nextStep === 'number' ? { kind: 'list', items: [] } : { kind: 'map', items: [] });
    if (typeof step === 'number') {
      if (parent.kind !== 'list') throw new TreePathError(`${formatPath(path.slice(0, i))} is not a list`, 'bad-set-argument');
      const values = listValues(parent);
      const existing = values[step];
      if (existing === undefined) {
        const node = fresh();
        parent.items.push(node);
        if (last) return true;
        parent = node;
        continue;
      }
      if (last) return replaceNode(parent, existing, value);
      parent = ensureContainer(parent, existing, nextStep);
    } else {
      if (parent.kind !== 'map') throw new TreePathError(`${formatPath(path.slice(0, i))} is not a map`, 'bad-set-argument');
      const entry: Entry | undefined = lastEntry(parent, step);
      if (!entry) {
        const node = fresh();
        parent.items.push({ kind: 'entry', key: step, value: node });
        if (last) return true;
        parent = node;
        continue;
      }
      if (last) {
        if (sameValue(entry.value, value)) return false;
        if (entry.value.kind === 'scalar' && value.kind === 'scalar') {
          entry.value.type = value.type;
          entry.value.value = value.value;
        } else {
          entry.value = value;
        }
        return true;
      }
      if (entry.value.kind === 'scalar' || (typeof nextStep === 'number') !== (entry.value.kind === 'list')) {
        entry.value = typeof nextStep === 'number' ? { kind: 'list', items: [] } : { kind: 'map', items: [] };
      }
      parent = entry.value;
    }
  }
  return true;
}

function lastEntry(map: MapNode, key: string): Entry | undefined {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const item = map.items[i]!;
    if (item.kind === 'entry' && item.key === key) return item;
  }
  return undefined;
}

function ensureContainer(list: ListNode, existing: Node, nextStep: PathStep | undefined): Node {
  const wantList = typeof nextStep === 'number';
  if (existing.kind === (wantList ? 'list' : 'map')) return existing;
  const node: Node = wantList ? { kind: 'list', items: [] } : { kind: 'map', items: [] };
  list.items[list.items.indexOf(existing)] = node;
  return node;
}

function replaceNode(list: ListNode, existing: Node, value: Node): boolean {
  if (sameValue(existing, value)) return false;
  if (existing.kind === 'scalar' && value.kind === 'scalar') {
    existing.type = value.type;
    existing.value = value.value;
  } else {
    list.items[list.items.indexOf(existing)] = value;
  }
  return true;
}

/** Removes the map key or list element at `path`. Returns false when there was nothing to remove. */
export function unsetAtPath(root: MapNode, path: readonly PathStep[]): boolean {
  if (path.length === 0) throw new TreePathError('the path must name at least one key', 'bad-set-argument');
  const parent = getAtPath(root, path.slice(0, -1));
  const step = path[path.length - 1]!;
  if (!parent) return false;
  if (typeof step === 'number') {
    if (parent.kind !== 'list') return false;
    const target = listValues(parent)[step];
    if (target === undefined) return false;
    parent.items.splice(parent.items.indexOf(target), 1);
    return true;
  }
  if (parent.kind !== 'map') return false;
  const before = parent.items.length;
  parent.items = parent.items.filter((it) => !(it.kind === 'entry' && it.key === step));
  return parent.items.length !== before;
}

/** Deep equality of values (types included), ignoring comments and layout. */
export function sameValue(a: Node, b: Node): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'scalar') return sameScalar(a, b as Scalar);
  if (a.kind === 'list') {
    const x = listValues(a);
    const y = listValues(b as ListNode);
    return x.length === y.length && x.every((n, i) => sameValue(n, y[i]!));
  }
  const x = a.items.filter((i) => i.kind === 'entry');
  const y = (b as MapNode).items.filter((i) => i.kind === 'entry');
  return x.length === y.length && x.every((e, i) => e.kind === 'entry' && y[i]!.kind === 'entry' && e.key === (y[i] as typeof e).key && sameValue(e.value, (y[i] as typeof e).value));
}

function sameScalar(a: Scalar, b: Scalar): boolean {
  if (a.type !== b.type) return false;
  if (a.value instanceof Uint8Array || b.value instanceof Uint8Array) {
    return a.value instanceof Uint8Array && b.value instanceof Uint8Array && Buffer.from(a.value).equals(Buffer.from(b.value));
  }
  return Object.is(a.value, b.value) || a.value === b.value;
}
