import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors.js';

/**
 * Replaces `path` atomically: a temp file in the same directory (created
 * exclusively, 0600 while it is written), fsync, the target's mode, rename,
 * fsync of the directory. A crash at any point leaves the old file or the new
 * one, never part of one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, options: { mode?: number } = {}): Promise<void> {
  // Loaded on use: read-only commands never pay for fs/promises at start-up.
  const { open, rename, stat, unlink } = await import('node:fs/promises');
  const dir = dirname(path);
  let mode = options.mode ?? 0o644;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(`cannot write: ${reason(e)}`, { file: path });
  }
  const temp = join(dir, `.${basename(path)}.tsops-${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new OutputError(`cannot write: ${reason(e)}`, { file: path });
  }
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw new OutputError(`cannot write: ${reason(e)}`, { file: path });
  }
  await syncDirectory(dir);
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

function reason(e: unknown): string {
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
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}
