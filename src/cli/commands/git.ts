import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ExitCode, TsopsError } from '../../errors.js';
import { formatForPath, loadFormat } from '../../formats/format.js';
import { readStore } from '../../formats/detect.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { resolveEditor, runEditor } from '../../io/editor.js';
import { createPrivateDir } from '../../io/private-dir.js';
import { clearConflicts, conflictStorePath, loadConflicts, saveConflicts } from '../../git/conflicts.js';
import { gitRoot, installGitIntegration } from '../../git/install.js';
import { repositoryPatterns } from '../../git/patterns.js';
import { displayPath } from '../../rekey/walk.js';
import { mergeEncryptedFiles } from '../../git/merge-driver.js';
import { textconv } from '../../git/textconv.js';
import { decryptDocument, forgetDecrypted, reencryptDocument } from '../../sops/index.js';
import { setAtPath, unsetAtPath } from '../../sops/tree-edit.js';
import { parseTreePath } from '../../sops/treepath.js';
import { list, map, str, type MapNode, type Node } from '../../tree.js';
import { say, warn, writeOut, type CliContext } from '../context.js';
import { keyOptions, type CommonFlags } from '../options.js';

/** `tsops git textconv FILE`: what `git diff` shows for an encrypted file. */
export async function textconvCommand(file: string, ctx: CliContext): Promise<number> {
  await writeOut(ctx, await textconv(file, keyOptions({}, ctx.env)));
  return 0;
}

/**
 * `tsops merge-driver %O %A %B %P`: merges value by value. Exit 0 with the
 * merged file in %A; exit 1 on conflicting values (the conflicts are kept,
 * encrypted, for `tsops resolve`); git's own text merge when the file cannot
 * be merged here (no keys, plaintext).
 */
export async function mergeDriverCommand(base: string, ours: string, theirs: string, path: string, ctx: CliContext): Promise<number> {
  const result = await mergeEncryptedFiles({ base, ours, theirs, format: formatForPath(path), keys: keyOptions({}, ctx.env) });
  // What the driver prints names files and keys a hostile branch chose: say() shows them escaped.
  const report = (line: string): void => say(ctx, `${path}: ${line}`);
  if (result.kind === 'refused') {
    // %A keeps our version untouched; git records the conflict.
    report(`not merged: ${result.reason}`);
    return 1;
  }
  if (result.kind === 'text') {
    report(`merging the encrypted text instead: ${result.reason}`);
    const r = spawnSync('git', ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', '--', ours, base, theirs], { stdio: 'ignore' });
    return r.status === 0 ? 0 : 1;
  }
  writeFileSync(ours, result.output);
  // Key changes are what a reviewer of the merge most needs to see.
  for (const note of result.notes) report(note);
  if (result.kind === 'merged') return 0;
  try {
    await saveConflicts(conflictStorePath(ctx.cwd, path), path, result.conflicts, result.sealed);
  } finally {
    result.sealed.dataKey.fill(0);
  }
  report(`${result.conflicts.length} value${result.conflicts.length === 1 ? '' : 's'} changed on both sides; run: tsops resolve ${path}`);
  return 1;
}

/** `tsops guard --staged`: the pre-commit check; names each file, the key paths and the fix, never a value. */
/** `tsops guard [FILE...]`: every staged change, or only the named files (as the pre-commit framework passes them). */
export async function guardCommand(ctx: CliContext, files: string[] = []): Promise<number> {
  const { checkStaged } = await import('../../git/guard.js');
  const { violations, unbound } = await checkStaged(ctx.cwd, keyOptions({}, ctx.env), ctx.env, files.length ? files : undefined);
  for (const file of unbound) warn(ctx, `${file} lost its structure binding (HEAD has it): rewritten by sops, or removed; 'tsops rotate -i ${file}' writes it again`);
  for (const v of violations) say(ctx, `${v.file} ${v.problem}; fix: ${v.fix}`);
  if (violations.length) say(ctx, `commit refused: ${violations.length} file${violations.length === 1 ? '' : 's'} must be encrypted first`);
  return violations.length ? 1 : 0;
}

/**
 * `tsops git install [PATTERN...]`: drivers, .gitattributes and the pre-commit
 * guard. Without patterns they come from the creation rules; a rule that no
 * glob matches exactly is named on one line (the guard still enforces it).
 */
export async function installCommand(patterns: string[], ctx: CliContext): Promise<number> {
  const root = gitRoot(ctx.cwd);
  const derived = patterns.length ? { patterns, unmapped: [] } : await repositoryPatterns(root, ctx.env);
  const configName = 'configPath' in derived && derived.configPath ? `${displayPath(derived.configPath, ctx.cwd)}: ` : '';
  for (const line of derived.unmapped) warn(ctx, `${configName}${line}; not added to .gitattributes (the guard still checks it)`);
  const result = await installGitIntegration(root, derived.patterns, 'tsops');
  ctx.stdout.write(result.attributesAdded.length || result.hookInstalled ? `tsops git integration installed (${[...result.attributesAdded, ...(result.hookInstalled ? ['pre-commit hook'] : [])].join('; ')})\n` : 'tsops git integration already installed\n');
  return 0;
}

/**
 * `tsops resolve FILE`: opens the values both branches changed, with both
 * versions, in the editor (private temp file, as edit); writes the encrypted
 * resolution.
 */
export async function resolveCommand(file: string, flags: CommonFlags, ctx: CliContext): Promise<number> {
  const keys = keyOptions(flags, ctx.env);
  const root = gitRoot(ctx.cwd);
  const relative = execFileSync('git', ['ls-files', '--full-name', '--', file], { cwd: ctx.cwd, encoding: 'utf8' }).trim().split('\n')[0] || file;
  const store = conflictStorePath(root, relative);
  const conflicts = await loadConflicts(store, keys);
  if (!conflicts || conflicts.length === 0) throw new TsopsError('no unresolved tsops conflicts for this file', ExitCode.Generic, { file });

  const { format, parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  const decrypted = await decryptDocument(parsed, { keys, forReencryption: true });
  const yaml = await loadFormat('yaml');
  const dir = createPrivateDir('tsops-resolve-', ctx.env);
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
    writeFileSync(temp, header + Buffer.from(yaml.emit({ format: 'yaml', documents: [map([['conflicts', list(items)]])] }, { indent: 2 })).toString('utf8'), { mode: 0o600 });
    const status = await runEditor(resolveEditor(ctx.env), temp, ctx.env);
    if (status !== 0) throw new TsopsError(`the editor exited with status ${status}; nothing resolved`, ExitCode.Generic, { file });
    const edited = yaml.parse(readFileSync(temp), { file: 'the resolution' }).documents[0];
    const entries = edited && (edited.items.find((i) => i.kind === 'entry' && i.key === 'conflicts') as { value: Node } | undefined)?.value;
    if (!entries || entries.kind !== 'list') throw new TsopsError("the resolution must keep the 'conflicts' list", ExitCode.Generic, { file });
    const doc = parsed.documents[0]!;
    for (const item of entries.items) {
      if (item.kind !== 'map') continue;
      const get = (k: string): Node | undefined => {
        for (const i of (item as MapNode).items) if (i.kind === 'entry' && i.key === k) return i.value;
        return undefined;
      };
      const key = get('key');
      if (!key || key.kind !== 'scalar') continue;
      const path = parseTreePath(String(key.value));
      const resolved = get('resolved');
      if (resolved) setAtPath(doc, path, resolved);
      else unsetAtPath(doc, path);
    }
    reencryptDocument(parsed, decrypted);
    await writeFileAtomic(file, format.emit(parsed));
    clearConflicts(store);
    ctx.stdout.write(`resolved ${conflicts.length} value(s) in ${file}; now: git add ${file}\n`);
    return 0;
  } finally {
    dir.remove();
    forgetDecrypted(decrypted);
  }
}
