import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { KeyOptions } from '../keys/masterkey.js';
import type { OpenedFile } from '../sops/opened-file.js';
import { verifyOpens } from '../sops/open.js';
import { formatPath } from '../sops/tree-edit.js';
import { getEntry, list, map, str, type Node, type ParsedFile } from '../tree.js';
import { yamlStore } from '../formats/yaml/store.js';
import type { MergeConflict } from './merge-tree.js';

/**
 * Conflicts the merge driver could not settle are kept, encrypted like the file
 * they belong to, inside the git directory (never in the work tree, so they
 * cannot be committed by accident) until `tsops resolve` settles them.
 */
export function conflictStorePath(repoRoot: string, file: string): string {
  const gitDir = execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  const id = createHash('sha256').update(resolve(repoRoot, file)).digest('hex').slice(0, 16);
  return join(gitDir, 'tsops', 'conflicts', `${id}.yaml`);
}

export async function saveConflicts(storePath: string, file: string, conflicts: MergeConflict[], sealedWith: OpenedFile): Promise<void> {
  const doc = map([
    ['file', str(file)],
    ['conflicts', list(conflicts.map(conflictNode))],
  ]);
  const parsed: ParsedFile = { format: yamlStore.name, documents: [doc] };
  // Every value is encrypted here, whatever partial-encryption rule the file itself uses.
  sealedWith.reseal(parsed, { rule: undefined, macOnlyEncrypted: false });
  mkdirSync(join(storePath, '..'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(storePath, (await yamlStore.load()).emit(parsed));
}

function conflictNode(c: MergeConflict): Node {
  const fields: [string, Node][] = [['key', str(formatPath(c.path))]];
  if (c.base) fields.push(['base', c.base]);
  if (c.ours) fields.push(['ours', c.ours]);
  if (c.theirs) fields.push(['theirs', c.theirs]);
  return map(fields);
}

export interface StoredConflict {
  key: string;
  base?: Node;
  ours?: Node;
  theirs?: Node;
}

export async function loadConflicts(storePath: string, keys: KeyOptions): Promise<StoredConflict[] | undefined> {
  if (!existsSync(storePath)) return undefined;
  const parsed = (await yamlStore.load()).parse(readFileSync(storePath), { file: storePath });
  await verifyOpens(parsed, { keys });
  const root = parsed.documents[0];
  const conflicts = root && getEntry(root, 'conflicts')?.value;
  if (!conflicts || conflicts.kind !== 'list') return [];
  return conflicts.items.flatMap((item) => {
    if (item.kind !== 'map') return [];
    const key = getEntry(item, 'key')?.value;
    if (!key || key.kind !== 'scalar') return [];
    const out: StoredConflict = { key: String(key.value) };
    for (const side of ['base', 'ours', 'theirs'] as const) {
      const v = getEntry(item, side)?.value;
      if (v) out[side] = v;
    }
    return [out];
  });
}

export function clearConflicts(storePath: string): void {
  rmSync(storePath, { force: true });
}

