import { sameValue, type PathStep } from '../sops/tree-edit.js';
import { cloneNode, getEntry, type Entry, type MapNode, type Node } from '../tree.js';

/** A key both sides changed differently (or one changed and the other deleted). */
export interface MergeConflict {
  path: PathStep[];
  base?: Node;
  ours?: Node;
  theirs?: Node;
}

/**
 * Three-way merge of decrypted documents, key by key, applied onto `ours` in
 * place so its layout (and its ciphertext for unchanged values) survives. Maps
 * merge recursively; lists and scalars are single values. Where both sides
 * changed the same key differently, ours is kept and a conflict is reported.
 */
export function mergeDocuments(base: MapNode | undefined, ours: MapNode, theirs: MapNode): MergeConflict[] {
  const conflicts: MergeConflict[] = [];
  mergeMaps(base, ours, theirs, [], conflicts);
  return conflicts;
}

function entryOf(map: MapNode | undefined, key: string): Entry | undefined {
  return map && getEntry(map, key);
}

/** Conflicts hold copies: the merged tree is re-encrypted in place afterwards. */
function conflict(path: PathStep[], base: Node | undefined, ours: Node | undefined, theirs: Node | undefined): MergeConflict {
  const c: MergeConflict = { path };
  if (base) c.base = cloneNode(base);
  if (ours) c.ours = cloneNode(ours);
  if (theirs) c.theirs = cloneNode(theirs);
  return c;
}

function mergeMaps(base: MapNode | undefined, ours: MapNode, theirs: MapNode, path: PathStep[], conflicts: MergeConflict[]): void {
  const removed = new Set<Entry>();
  for (const item of ours.items) {
    if (item.kind !== 'entry') continue;
    const here = [...path, item.key];
    const b = entryOf(base, item.key)?.value;
    const t = entryOf(theirs, item.key)?.value;
    const o = item.value;
    if (t === undefined) {
      if (b === undefined) continue; // added on our side only
      if (sameValue(b, o)) removed.add(item); // deleted on their side, untouched on ours
      else conflicts.push(conflict(here, b, o, undefined));
      continue;
    }
    if (sameValue(o, t)) continue;
    if (b !== undefined && sameValue(b, o)) {
      takeTheirs(item, t);
    } else if (b !== undefined && sameValue(b, t)) {
      continue;
    } else if (o.kind === 'map' && t.kind === 'map') {
      mergeMaps(b?.kind === 'map' ? b : undefined, o, t, here, conflicts);
    } else {
      conflicts.push(conflict(here, b, o, t));
    }
  }
  if (removed.size) ours.items = ours.items.filter((i) => !(i.kind === 'entry' && removed.has(i)));

  for (const item of theirs.items) {
    if (item.kind !== 'entry' || entryOf(ours, item.key)) continue;
    const b = entryOf(base, item.key)?.value;
    if (b === undefined) ours.items.push({ kind: 'entry', key: item.key, value: cloneNode(item.value) });
    else if (!sameValue(b, item.value)) conflicts.push(conflict([...path, item.key], b, undefined, item.value));
  }
}

/** Replaces our value with theirs; a scalar keeps its node so the file's layout keeps its place. */
function takeTheirs(entry: Entry, theirs: Node): void {
  if (entry.value.kind === 'scalar' && theirs.kind === 'scalar') {
    entry.value.type = theirs.type;
    entry.value.value = theirs.value;
  } else {
    entry.value = cloneNode(theirs);
  }
}
