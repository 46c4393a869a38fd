/**
 * What there is to scan, and the encrypted files whose values the scan looks
 * for: the staged blobs (the commit, not the working copy), the tracked files
 * of a work tree (or every file of a directory outside git), or every blob
 * reachable from HEAD, each once, named by the first commit that added it.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { namedEntries, readBlobs, stagedEntries } from '../git/guard.js';
import { git } from '../git/repo.js';
import { ENCRYPTED_MARKER } from './known-values.js';

const REGULAR = new Set(['100644', '100755']);
/** How much blob content one `git cat-file --batch` call returns at most (a larger blob comes alone). */
const BATCH_BYTES = 32 << 20;

/** One file to scan; `read` gives its content (the caller zeroes it). */
export interface ScanTarget {
  path: string;
  /** The commit that first added this content (history scans). */
  commit?: string;
  read(): Buffer;
}

export interface TargetSet {
  targets: ScanTarget[];
  /** Encrypted files (path → content reader) whose values the scan compares against. */
  encrypted(): { path: string; bytes: Buffer }[];
  commits?: number;
  /** Zeroes whatever content is still held. */
  dispose(): void;
}

/** Staged regular files that differ from HEAD (or the named files, staged or not), as the commit will record them. */
export function stagedTargets(root: string, named?: { cwd: string; files: string[] }): TargetSet {
  const entries = (named ? namedEntries(root, named.cwd, named.files) : stagedEntries(root)).filter((e) => REGULAR.has(e.mode));
  const blobs = entries.length ? readBlobs(root, entries.map((e) => e.blob)) : new Map<string, Buffer>();
  return {
    targets: entries.map((e) => ({ path: e.path, read: () => Buffer.from(blobs.get(e.blob)!) })),
    dispose: () => {
      for (const bytes of blobs.values()) bytes.fill(0);
    },
    encrypted: () => {
      const paths = listZ(grep(root, ['--cached']));
      const ids = paths.map((p) => `:${p}`);
      const found = readBlobs(root, ids);
      return paths.map((path, i) => ({ path, bytes: found.get(ids[i]!)! })).filter((e) => e.bytes !== undefined);
    },
  };
}

/** The tracked files of the work tree at `root` (under `under`, relative to it, when given), read from the working copy. */
export function worktreeTargets(root: string, under = ''): TargetSet {
  const scope = under ? ['--', `:(literal)${under}`] : [];
  const paths = listZ(git(['ls-files', '-z', '--cached', '--deduplicate', ...scope], root));
  const targets = paths.filter((p) => isRegularFile(join(root, p))).map((path) => ({ path, read: () => readFileSync(join(root, path)) }));
  return {
    targets,
    dispose: () => undefined,
    encrypted: () => {
      const paths = listZ(grep(root, []));
      return paths.filter((p) => isRegularFile(join(root, p))).map((path) => ({ path, bytes: readFileSync(join(root, path)) }));
    },
  };
}

/** Every regular file under a directory outside git (`.git` directories and symbolic links are not followed). */
export function directoryTargets(dir: string): TargetSet {
  const paths: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory() && entry.name !== '.git') walk(full);
      else if (entry.isFile()) paths.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  paths.sort();
  const targets = paths.map((path) => ({ path, read: () => readFileSync(join(dir, path)) }));
  return {
    targets,
    dispose: () => undefined,
    encrypted: () =>
      targets.flatMap((t) => {
        const bytes = t.read();
        if (bytes.includes(ENCRYPTED_MARKER)) return [{ path: t.path, bytes }];
        bytes.fill(0);
        return [];
      }),
  };
}

/**
 * Every blob of every commit reachable from HEAD, once: commits are walked
 * oldest first (parents before children), so the commit a blob is named with
 * is the first that added it. Merges are compared with each parent; content
 * first seen in a merge (a conflict resolution) is found there.
 */
export function historyTargets(root: string): TargetSet {
  let revs: string[];
  try {
    revs = git(['rev-list', '--reverse', '--topo-order', 'HEAD'], root).toString('latin1').split('\n').filter(Boolean);
  } catch {
    revs = []; // no commit yet
  }
  const first = new Map<string, { path: string; commit: string }>();
  if (revs.length) {
    const fields = git(['diff-tree', '--stdin', '-r', '-m', '--root', '--no-renames', '--no-abbrev', '-z', '--diff-filter=AMT'], root, revs.join('\n') + '\n').toString('utf8').split('\0');
    let commit = '';
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (!field.startsWith(':')) {
        if (field) commit = field;
        continue;
      }
      // ":<old mode> <new mode> <old blob> <new blob> <status>", then the path
      const [, mode, , blob] = field.slice(1).split(' ');
      const path = fields[++i]!;
      if (mode && blob && REGULAR.has(mode) && !first.has(blob)) first.set(blob, { path, commit });
    }
  }
  const blobs = [...first.keys()];
  const sizes = blobSizes(root, blobs);
  const cache = new BlobBatches(root, blobs, sizes);
  return {
    commits: revs.length,
    dispose: () => cache.dispose(),
    targets: blobs.map((blob) => ({ path: first.get(blob)!.path, commit: first.get(blob)!.commit, read: () => cache.take(blob) })),
    encrypted: () => {
      if (!revs.length) return [];
      const paths = listZ(grep(root, [], ['HEAD', '--'])).map((p) => p.replace(/^HEAD:/, ''));
      const ids = paths.map((p) => `HEAD:${p}`);
      const found = readBlobs(root, ids);
      return paths.map((path, i) => ({ path, bytes: found.get(ids[i]!)! })).filter((e) => e.bytes !== undefined);
    },
  };
}

function blobSizes(root: string, blobs: string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  if (!blobs.length) return sizes;
  for (const line of git(['cat-file', '--batch-check=%(objectname) %(objectsize)'], root, blobs.join('\n') + '\n').toString('latin1').split('\n')) {
    const [id, size] = line.split(' ');
    if (id && size) sizes.set(id, Number(size));
  }
  return sizes;
}

/** Reads blobs in order, a batch of up to BATCH_BYTES at a time, each handed out once. */
class BlobBatches {
  private next = 0;
  private batch = new Map<string, Buffer>();

  constructor(private readonly root: string, private readonly order: string[], private readonly sizes: Map<string, number>) {}

  take(blob: string): Buffer {
    if (!this.batch.has(blob)) this.load(blob);
    const bytes = this.batch.get(blob)!;
    this.batch.delete(blob);
    return bytes;
  }

  dispose(): void {
    for (const bytes of this.batch.values()) bytes.fill(0);
    this.batch.clear();
  }

  private load(blob: string): void {
    this.dispose();
    let at = this.order.indexOf(blob, this.next);
    if (at < 0) at = this.order.indexOf(blob);
    const ids: string[] = [];
    let total = 0;
    for (let i = at; i < this.order.length && (ids.length === 0 || total + (this.sizes.get(this.order[i]!) ?? 0) <= BATCH_BYTES); i++) {
      ids.push(this.order[i]!);
      total += this.sizes.get(this.order[i]!) ?? 0;
    }
    this.next = at + ids.length;
    // Copies: the batch's one buffer is zeroed as a whole when the next batch comes.
    for (const [id, bytes] of readBlobs(this.root, ids)) {
      this.batch.set(id, Buffer.from(bytes));
      bytes.fill(0);
    }
  }
}

/** Files holding the sops marker; `git grep` exits 1 when there are none. */
function grep(root: string, options: string[], trees: string[] = []): Buffer {
  try {
    return git(['grep', ...options, '-l', '-z', '-F', '-e', ENCRYPTED_MARKER, ...trees], root);
  } catch (e) {
    if ((e as { status?: number }).status === 1) return Buffer.alloc(0);
    throw e;
  }
}

function listZ(out: Buffer): string[] {
  return out.toString('utf8').split('\0').filter(Boolean);
}

function isRegularFile(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
