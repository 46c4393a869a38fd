import { keyIdentity, type KeyRecord, type KeySpec } from '../keys/masterkey.js';
import type { Metadata } from '../sops/metadata.js';
import { specFromRecord } from '../sops/index.js';
import { groupsNeeded } from '../sops/shamir.js';

/** The master keys of the merged file, or why they cannot be merged. */
export type KeyMerge =
  | { ok: true; groups: KeySpec[][]; threshold: number | undefined; changed: boolean; removed: boolean; addedToOurs: string[]; removedFromOurs: string[] }
  | { ok: false; reason: string };

type Groups = string[][];

const idsOf = (m: Metadata): Groups => m.keyGroups.map((g) => g.map(keyIdentity));
const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const sameGroups = (a: Groups, b: Groups): boolean => a.length === b.length && a.every((g, i) => sameSet(g, b[i]!));
const thresholdOf = (m: Metadata): number | undefined => (m.keyGroups.length > 1 ? groupsNeeded(m.shamirThreshold, m.keyGroups.length) : undefined);

/**
 * Three-way merge of the key groups: a key removed on either side is gone, a
 * key added on either side is kept, group by group. Groups added or removed,
 * or a Shamir threshold changed differently on both sides, cannot be merged
 * safely and are reported instead.
 */
export function mergeKeyGroups(base: Metadata | undefined, ours: Metadata, theirs: Metadata): KeyMerge {
  const o = idsOf(ours);
  const t = idsOf(theirs);
  const records = new Map<string, KeyRecord>();
  for (const r of [...theirs.keyGroups.flat(), ...ours.keyGroups.flat()]) records.set(keyIdentity(r), r);

  let merged: Groups;
  let removed = false;
  let threshold: number | undefined;
  if (!base) {
    if (!sameGroups(o, t) || thresholdOf(ours) !== thresholdOf(theirs)) return { ok: false, reason: 'the two sides have different master keys and no common version to tell which were added or removed' };
    merged = o;
    threshold = thresholdOf(ours);
  } else {
    const b = idsOf(base);
    if (o.length === b.length && t.length === b.length) {
      merged = b.map((bg, i) => {
        const og = o[i]!;
        const tg = t[i]!;
        if (bg.some((k) => !og.includes(k) || !tg.includes(k))) removed = true;
        const keep = [...og.filter((k) => tg.includes(k) || !bg.includes(k)), ...tg.filter((k) => !og.includes(k) && !bg.includes(k))];
        return keep;
      });
    } else if (sameGroups(o, b)) {
      merged = t;
      removed = true;
    } else if (sameGroups(t, b)) {
      merged = o;
      removed = true;
    } else {
      return { ok: false, reason: 'both sides changed the number of key groups' };
    }
    const [bt, ot, tt] = [thresholdOf(base), thresholdOf(ours), thresholdOf(theirs)];
    if (ot === tt || tt === bt) threshold = ot;
    else if (ot === bt) threshold = tt;
    else return { ok: false, reason: `both sides changed the Shamir threshold (${ot} and ${tt})` };
    if (merged.length > 1 && threshold !== undefined && threshold > merged.length) return { ok: false, reason: `the merged Shamir threshold ${threshold} is more than the ${merged.length} key groups` };
  }
  if (merged.length === 0 || merged.some((g) => g.length === 0)) return { ok: false, reason: 'the merge leaves a key group with no master keys' };

  const groups: KeySpec[][] = [];
  for (const g of merged) {
    const specs: KeySpec[] = [];
    for (const id of g) {
      const spec = specFromRecord(records.get(id)!);
      if (!spec) return { ok: false, reason: `cannot re-encrypt the data key for ${records.get(id)!.type} key ${id} (not supported by tsops)` };
      specs.push(spec);
    }
    groups.push(specs);
  }
  const [was, now] = [new Set(o.flat()), new Set(merged.flat())];
  return {
    ok: true,
    groups,
    threshold,
    changed: !sameGroups(merged, o) || threshold !== thresholdOf(ours),
    removed,
    addedToOurs: [...now].filter((k) => !was.has(k)),
    removedFromOurs: [...was].filter((k) => !now.has(k)),
  };
}
