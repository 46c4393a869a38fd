import { constants } from 'node:fs';
import { isAbsolute, posix, relative, resolve, sep, win32 } from 'node:path';
import { TsopsError } from '../errors.js';

/**
 * The directory a ksops manifest may read from. kustomize runs a plugin in the
 * kustomization's directory; that directory (or TSOPS_KRM_ROOT, which only
 * the user's environment can set, when it holds the kustomization) bounds
 * every path, so a planted manifest cannot pull in files from elsewhere on
 * the machine (another repository's secrets, through `..`, an absolute path
 * or a symbolic link).
 */
export async function kustomizationRoot(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  const here = await realpath(cwd);
  const wider = env['TSOPS_KRM_ROOT'];
  if (wider === undefined || wider === '') return here;
  if (!isAbsolute(wider)) throw new TsopsError(`TSOPS_KRM_ROOT must be an absolute path (${wider})`);
  let root: string;
  try {
    root = await realpath(wider);
  } catch {
    throw new TsopsError(`TSOPS_KRM_ROOT does not exist (${wider})`);
  }
  if (!inside(here, root)) throw new TsopsError(`TSOPS_KRM_ROOT (${wider}) does not hold the kustomization directory ${here}`);
  return root;
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Reads one file a manifest names. Relative to the working directory, as
 * ksops does (kustomize sets it to the kustomization root); refused when it
 * is absolute, climbs out of the root, resolves out of it through a link, or
 * is not a regular file.
 */
export async function readListedFile(listed: string, cwd: string, root: string): Promise<Buffer> {
  const refuse = (why: string): never => {
    throw new TsopsError(why, 'unreadable-input', { file: listed });
  };
  if (listed === '') refuse('an empty path');
  if (posix.isAbsolute(listed) || win32.isAbsolute(listed)) refuse('absolute paths are refused: list files relative to the kustomization');
  const wanted = resolve(cwd, listed);
  if (!inside(wanted, root)) refuse(`is outside the kustomization root ${root}`);
  const { open, realpath } = await import('node:fs/promises');
  let real: string;
  try {
    real = await realpath(wanted);
  } catch (e) {
    return refuse(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!inside(real, root)) refuse(`is a link to a file outside the kustomization root ${root}`);
  // O_NOFOLLOW: the real path has no link left, so one swapped in since is refused, not followed.
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before the file-type check could refuse it.
  const handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)).catch((e: NodeJS.ErrnoException) => refuse(`cannot be read (${e.code ?? 'error'})`));
  try {
    if (!(await handle.stat()).isFile()) refuse('is not a regular file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
