import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';

/** Symbolic links followed before giving up, as the kernel does (ELOOP). */
const MAX_LINK_HOPS = 40;

export interface WriteTarget {
  /** The real file a write lands on: every symbolic link in the chain resolved. */
  path: string;
  /** Its current state, when it exists. */
  stats?: Stats;
}

/**
 * Where a write to `path` must land: the end of its chain of symbolic links,
 * so a link keeps pointing at a file that now holds the new content. A
 * dangling link is written through when its target's directory exists. A
 * file with other hard links is refused: a rename would leave the other names
 * on the old content (a secret left in plaintext, a removed key still able to
 * read it).
 */
async function resolveWriteTarget(path: string): Promise<WriteTarget> {
  const { lstat, readlink, realpath, stat } = await import('node:fs/promises');
  let current = resolve(path);
  for (let hop = 0; ; hop++) {
    let st: Stats;
    try {
      st = await lstat(current);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(`cannot write: ${reason(e)}`, { file: path });
      try {
        if (!(await stat(dirname(current))).isDirectory()) throw new Error('not a directory');
      } catch {
        const via = current === resolve(path) ? '' : ` (the link points to ${current})`;
        throw new OutputError(`cannot write: no such directory${via}`, { file: path });
      }
      return { path: current };
    }
    if (st.isSymbolicLink()) {
      if (hop >= MAX_LINK_HOPS) throw new OutputError('cannot write: too many levels of symbolic links', { file: path });
      // Relative to the link's real directory, as the kernel reads it: `..` in a
      // link inside a linked directory climbs from where the directory really is.
      current = resolve(await realpath(dirname(current)), await readlink(current));
      continue;
    }
    if (st.isDirectory()) throw new OutputError('cannot write: is a directory', { file: path });
    if (!st.isFile()) throw new OutputError('cannot write: not a regular file', { file: path });
    if (st.nlink > 1) {
      throw new OutputError(
        `cannot write: it has ${st.nlink} hard links and replacing it would leave the other names with the old content; break the link first (copy the file to a new name, then move the copy over it) or write elsewhere with --output`,
        { file: path },
      );
    }
    return { path: current, stats: st };
  }
}

/**
 * Fails early, before any work (an editor session, a decryption), when
 * `path` cannot be replaced: a hard-linked file, a missing directory, or one
 * this user cannot write to.
 */
export async function checkWritable(path: string): Promise<void> {
  const { access } = await import('node:fs/promises');
  const target = await resolveWriteTarget(path);
  try {
    await access(dirname(target.path), constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutputError(`cannot write: ${reason(e)} (directory ${dirname(target.path)})`, { file: path });
  }
}

/**
 * Replaces `path` atomically: the real target at the end of its symbolic
 * links gets a temp file beside it (created exclusively, 0600 while it is
 * written), the old file's owner, group and mode, fsync, rename, fsync of the
 * directory. A crash at any point leaves the old file or the new one, never
 * part of one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, options: { mode?: number } = {}): Promise<void> {
  // Loaded on use: read-only commands never pay for fs/promises at start-up.
  const { open, rename, unlink } = await import('node:fs/promises');
  const target = await resolveWriteTarget(path);
  const dir = dirname(target.path);
  const mode = target.stats ? target.stats.mode & 0o7777 : (options.mode ?? 0o644);
  const temp = join(dir, `.${basename(target.path)}.tsops-${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new OutputError(`cannot write: ${reason(e)}`, { file: path });
  }
  try {
    await handle.writeFile(data);
    if (target.stats) await keepOwner(handle, target.stats, path);
    // After chown, which clears set-id bits.
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target.path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e instanceof OutputError ? e : new OutputError(`cannot write: ${reason(e)}`, { file: path });
  }
  await syncDirectory(dir);
}

/** The old file's owner and group on the new one. Root can always; another user only keeps a group it belongs to. */
async function keepOwner(handle: import('node:fs/promises').FileHandle, old: Stats, path: string): Promise<void> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || (old.uid === uid && old.gid === gid)) return;
  try {
    await handle.chown(old.uid, old.gid);
  } catch (e) {
    if (uid === 0) throw new OutputError(`cannot keep the file's owner: ${reason(e)}`, { file: path });
    // Not root: the file becomes this user's, as with any editor that saves by rename.
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  try {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
}

export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}
