import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { formatForPath } from '../../formats/format.js';
import { conflictStorePath, saveConflicts } from '../../git/conflicts.js';
import { gitRoot, installGitIntegration } from '../../git/install.js';
import { repositoryPatterns } from '../../git/patterns.js';
import { displayPath } from '../../files/walk.js';
import { mergeEncryptedFiles } from '../../git/merge-driver.js';
import { resolveConflicts } from '../../git/resolve.js';
import { textconv } from '../../git/textconv.js';
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
    await saveConflicts(conflictStorePath(ctx.cwd, path), path, result.conflicts, result.sealedWith);
  } finally {
    result.sealedWith.dispose();
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
  // Every staged plaintext file, covered or not, is scanned for secrets too.
  const secrets = await (await import('./scan.js')).guardSecrets(gitRoot(ctx.cwd), ctx, files);
  if (violations.length) say(ctx, `commit refused: ${violations.length} file${violations.length === 1 ? '' : 's'} must be encrypted first`);
  if (secrets) say(ctx, `commit refused: ${secrets} secret${secrets === 1 ? '' : 's'} in staged files (a false positive: add 'tsops:allow' to the line, or an entry under tsops.scan.allow in the config)`);
  return violations.length || secrets ? 1 : 0;
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

/** `tsops resolve FILE`: the values both branches changed, settled in the editor; the file is written encrypted. */
export async function resolveCommand(file: string, flags: CommonFlags, ctx: CliContext): Promise<number> {
  const count = await resolveConflicts(file, { keys: keyOptions(flags, ctx.env), cwd: ctx.cwd, env: ctx.env });
  ctx.stdout.write(`resolved ${count} value(s) in ${file}; now: git add ${file}\n`);
  return 0;
}
