import { realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { findConfig } from '../../config/find.js';
import { TsopsError } from '../../errors.js';
import { git } from '../../git/repo.js';
import { Allowlist } from '../../scan/allowlist.js';
import { findingLine, summaryLine } from '../../scan/report.js';
import { runScan, type ScanSummary } from '../../scan/run.js';
import { directoryTargets, historyTargets, stagedTargets, worktreeTargets, type TargetSet } from '../../scan/sources.js';
import type { CliContext } from '../context.js';
import { say, warn } from '../context.js';
import { MAX_SCAN_BYTES } from '../../scan/scanner.js';
import { keyOptions } from '../options.js';

export interface ScanFlags {
  history?: boolean;
}

/**
 * `tsops scan [DIR] [--history]`: exit 0 when nothing is found, 1 when
 * something is, 2 when the files or the repository cannot be read; a config
 * error keeps its usual code.
 */
export async function scanCommand(dir: string | undefined, flags: ScanFlags, ctx: CliContext): Promise<number> {
  const start = resolve(ctx.cwd, dir ?? '.');
  if (!statSync(start, { throwIfNoEntry: false })?.isDirectory()) throw new TsopsError('is not a directory', 'unreadable-input', { file: dir ?? '.' });
  const root = workTreeRoot(start);
  if (!root && flags.history) throw new TsopsError('--history needs a git repository', 'unreadable-input', { file: dir ?? '.' });
  const base = root ?? start;
  const set = readable(() => (root ? (flags.history ? historyTargets(root) : worktreeTargets(root, relative(root, realpathSync(start)).split(sep).join('/'))) : directoryTargets(start)), dir ?? '.');
  const summary = await scanWith(set, base, ctx);
  for (const finding of summary.findings) say(ctx, findingLine(finding, summary));
  say(ctx, summaryLine(summary));
  return summary.findings.length ? 1 : 0;
}

/** The secret scan the pre-commit guard runs over the staged files (or the files it is given); the number of findings. */
export async function guardSecrets(root: string, ctx: CliContext, files: string[] = []): Promise<number> {
  const summary = await scanWith(readable(() => stagedTargets(root, files.length ? { cwd: ctx.cwd, files } : undefined), root), root, ctx);
  for (const finding of summary.findings) say(ctx, findingLine(finding, summary));
  // The guard prints no summary; past the limit a file is not read, and a secret placed there would pass unseen.
  if (summary.truncated) warn(ctx, `${summary.truncated} staged file${summary.truncated === 1 ? '' : 's'} scanned only in the first ${MAX_SCAN_BYTES / (1 << 20)} MiB`);
  return summary.findings.length;
}

async function scanWith(set: TargetSet, base: string, ctx: CliContext): Promise<ScanSummary> {
  const configPath = await findConfig({ target: join(base, '.sopsrc'), cwd: base, env: ctx.env, warn: (m) => warn(ctx, m) });
  const summary = await runScan(set, Allowlist.fromConfigFile(configPath), keyOptions({}, ctx.env));
  // The allowlist lives in the working copy, which a checked-out branch may have planted: what it hides is never silent.
  if (summary.allowed && configPath) {
    warn(ctx, `${summary.allowed} finding${summary.allowed === 1 ? '' : 's'} passed over by tsops.scan.allow in ${relative(base, configPath) || configPath}; check that these entries are yours`);
  }
  return summary;
}

function workTreeRoot(dir: string): string | undefined {
  try {
    if (git(['rev-parse', '--is-inside-work-tree'], dir).toString('utf8').trim() !== 'true') return undefined;
    return git(['rev-parse', '--show-toplevel'], dir).toString('utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A failing git or file read is exit code 2 (could not read), never mistaken for "found". */
function readable<T>(work: () => T, file: string): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof TsopsError) throw e;
    throw new TsopsError(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'git failed'})`, 'unreadable-input', { file });
  }
}
