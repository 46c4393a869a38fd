import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { TsopsError, UsageError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { isEncrypted } from '../sops/index.js';

/**
 * The files under `dir`: in a git work tree, what git tracks or would track
 * (so .gitignore is respected); elsewhere every regular file, skipping
 * node_modules and dot-directories. Symbolic links are never followed: a
 * linked directory is not descended and a linked file is left out (its target
 * is walked on its own when it is in the tree); `note` hears about each link
 * that leads out of the tree, which a planted link would use to make a
 * recursive rewrite reach files elsewhere.
 */
export function filesUnder(dir: string, note: (line: string) => void = () => {}): string[] {
  let root: string | undefined;
  /** False, with a note, when `path` really lives outside the tree (a link, or a tracked path under a directory since replaced by a link). */
  const inTree = (path: string): boolean => {
    let target: string;
    try {
      root ??= realpathSync(dir);
      target = realpathSync(path);
    } catch {
      return false; // dangling: nothing to reach
    }
    if (target === root || target.startsWith(root + sep)) return true;
    note(`skipped ${path}: it leads to ${target}, outside ${dir}`);
    return false;
  };
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
    return [...new Set(out.split('\0').filter(Boolean))].map((f) => join(dir, f)).filter((f) => {
      try {
        const st = lstatSync(f);
        if (st.isSymbolicLink()) inTree(f);
        return st.isFile() && inTree(f);
      } catch {
        return false;
      }
    });
  } catch {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || (entry.isDirectory() && entry.name.startsWith('.'))) continue;
        const p = join(d, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push(p);
        else if (entry.isSymbolicLink()) inTree(p);
      }
    };
    walk(dir);
    return out.sort();
  }
}

export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
}

/** The encrypted files among `paths` (directories walked with -r). */
export async function encryptedFiles(paths: string[], recursive: boolean, note?: (line: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new TsopsError('no such file', 'file-not-found', { file: p });
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    if (!recursive) throw new UsageError(`${p} is a directory (use -r to walk it)`, 'bad-usage');
    for (const f of filesUnder(p, note)) {
      try {
        if (isEncrypted((await readStore(readFileSync(f), formatForPath(f), { file: f, needMetadata: true })).parsed)) out.push(f);
      } catch {
        out.push(f); // unreadable or corrupt: reported by the command, not skipped silently
      }
    }
  }
  return out;
}
