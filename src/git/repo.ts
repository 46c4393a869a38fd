import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { TsopsError } from '../errors.js';

/** Outside a work tree: one line naming the directory, never git's own usage text. */
class NotAGitRepositoryError extends TsopsError {
  constructor(dir: string) {
    super('not a git repository', 'failed', { file: dir });
  }
}

/**
 * git reads no `.gitattributes` or `.gitignore` that is a symbolic link (a
 * planted one could point anywhere); tsops does not write through one either.
 */
export function refuseSymlink(path: string): void {
  if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw new TsopsError('is a symbolic link; git ignores it and tsops will not write through it (replace it with a regular file)', 'unwritable-output', { file: path });
  }
}

/** Runs git and returns its standard output; its standard error never reaches the terminal. */
export function git(args: string[], cwd: string, input?: Uint8Array | string): Buffer {
  return execFileSync('git', args, { cwd, input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

/** The top of the work tree holding `cwd`; {@link NotAGitRepositoryError} when there is none. */
export function gitRoot(cwd: string): string {
  try {
    const root = git(['rev-parse', '--show-toplevel'], cwd).toString('utf8').trim();
    if (root) return root;
  } catch {
    // not inside a work tree (or git is missing): the same answer for the user
  }
  throw new NotAGitRepositoryError(cwd);
}
