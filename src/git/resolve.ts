import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TsopsError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { yamlStore } from '../formats/yaml/store.js';
import { readStore } from '../formats/detect.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { resolveEditor, runEditor } from '../io/editor.js';
import { createPrivateDir } from '../io/private-dir.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { OpenedFile } from '../sops/opened-file.js';
import { setAtPath, unsetAtPath } from '../sops/tree-edit.js';
import { parseTreePath } from '../sops/treepath.js';
import { getEntry, list, map, str, type Node } from '../tree.js';
import { clearConflicts, conflictStorePath, loadConflicts } from './conflicts.js';
import { gitRoot } from './install.js';

/**
 * Opens the values both branches changed, with both versions, in the editor
 * (a private temp file, as edit does); writes the encrypted resolution and
 * forgets the stored conflicts. Returns how many values were settled.
 */
export async function resolveConflicts(file: string, options: { keys: KeyOptions; cwd: string; env: NodeJS.ProcessEnv }): Promise<number> {
  const { keys, cwd, env } = options;
  const root = gitRoot(cwd);
  const relative = execFileSync('git', ['ls-files', '--full-name', '--', file], { cwd, encoding: 'utf8' }).trim().split('\n')[0] || file;
  const store = conflictStorePath(root, relative);
  const conflicts = await loadConflicts(store, keys);
  if (!conflicts || conflicts.length === 0) throw new TsopsError('no unresolved tsops conflicts for this file', 'failed', { file });

  const { format, parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  using opened = await OpenedFile.open(parsed, { keys, keepIvs: true });
  const yaml = await yamlStore.load();
  const dir = createPrivateDir('tsops-resolve-', env);
  try {
    const temp = join(dir.path, `resolve-${basename(file)}.yaml`);
    const items: Node[] = conflicts.map((c) => {
      const fields: [string, Node][] = [['key', str(c.key)]];
      if (c.base) fields.push(['base', c.base]);
      fields.push(['ours', c.ours ?? str('(deleted)')], ['theirs', c.theirs ?? str('(deleted)')]);
      fields.push(['resolved', c.ours ?? c.theirs ?? str('')]);
      return map(fields);
    });
    const header = `# ${conflicts.length} value(s) in ${file} changed differently on both branches.\n# Edit each 'resolved' (start from ours, theirs or your own); delete a 'resolved' line to remove the key.\n`;
    writeFileSync(temp, header + Buffer.from(yaml.emit({ format: yamlStore.name, documents: [map([['conflicts', list(items)]])] }, { indent: 2 })).toString('utf8'), { mode: 0o600 });
    const status = await runEditor(resolveEditor(env), temp, env);
    if (status !== 0) throw new TsopsError(`the editor exited with status ${status}; nothing resolved`, 'failed', { file });
    const edited = yaml.parse(readFileSync(temp), { file: 'the resolution' }).documents[0];
    const entries = edited && getEntry(edited, 'conflicts')?.value;
    if (!entries || entries.kind !== 'list') throw new TsopsError("the resolution must keep the 'conflicts' list", 'failed', { file });
    const doc = opened.documents[0]!;
    for (const item of entries.items) {
      if (item.kind !== 'map') continue;
      const get = (k: string): Node | undefined => getEntry(item, k)?.value;
      const key = get('key');
      if (!key || key.kind !== 'scalar') continue;
      const path = parseTreePath(String(key.value));
      const resolved = get('resolved');
      if (resolved) setAtPath(doc, path, resolved);
      else unsetAtPath(doc, path);
    }
    opened.reseal();
    await writeFileAtomic(file, format.emit(opened.file));
    clearConflicts(store);
    return conflicts.length;
  } finally {
    dir.remove();
  }
}
