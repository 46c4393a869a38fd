import { readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.js';
import { escapeControl } from '../escape.js';
import { splitCommaList } from '../comma-list.js';

/** Names tried in each directory; the first present wins: tsops's own, then sops's. */
export const CONFIG_NAMES: readonly string[] = ['.sopsrc', '.sops.yaml', '.sops.yml'];

const MAX_LEVELS = 100;

export interface FindConfigOptions {
  /** The file being encrypted or decrypted (or its --filename-override). */
  target?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config PATH`. */
  explicit?: string;
  /** One line per config file passed over (or given explicitly) because someone else could have written it. */
  warn?: (message: string) => void;
}

/**
 * The config file that applies: `--config`, then `SOPS_CONFIG`, then the
 * nearest trusted one walking up from the target's directory, then (as sops
 * does) walking up from the current directory. Undefined when there is none.
 *
 * A walk never leaves the repository that holds its start (the nearest
 * directory with a `.git` file or directory) and, outside any repository,
 * never climbs above the user's home; outside both it looks in the start
 * directory only. A config file found on the way that another user could have
 * written (see `distrust`) is passed over with a warning: otherwise a file
 * planted in /tmp or a shared parent would choose the recipients and which
 * values stay in plaintext.
 */
export async function findConfig(options: FindConfigOptions): Promise<string | undefined> {
  const explicit = given(options.explicit, '--config') ?? given(options.env['SOPS_CONFIG'], 'SOPS_CONFIG');
  if (explicit) {
    const path = resolve(options.cwd, explicit.path);
    if (!isFile(path)) throw new ConfigError(`config file ${escapeControl(explicit.path)} (from ${explicit.source}) does not exist or is not a file`);
    const reason = distrust(path);
    if (reason) options.warn?.(`config file ${escapeControl(path)}: ${reason}; used because ${explicit.source} names it`);
    return path;
  }
  const starts: string[] = [];
  if (options.target && options.target !== '-') starts.push(dirname(resolve(options.cwd, options.target)));
  starts.push(resolve(options.cwd));
  const home = options.env['HOME'] ? resolve(options.env['HOME']) : safeHomedir();
  const warned = new Set<string>();
  for (const start of starts) {
    const found = walkUp(start, searchLimit(start, home), (path, reason) => {
      if (warned.has(path)) return;
      warned.add(path);
      options.warn?.(`ignoring config file ${escapeControl(path)}: ${reason}`);
    });
    if (found) return found;
  }
  return undefined;
}

function given(path: string | undefined, source: string): { path: string; source: string } | undefined {
  return path ? { path, source } : undefined;
}

/** The highest directory a walk from `start` may look in. */
function searchLimit(start: string, home: string | undefined): string {
  let dir = start;
  for (let level = 0; level < MAX_LEVELS; level++) {
    if (exists(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (home && isInside(start, home)) return home;
  return start;
}

function walkUp(start: string, limit: string, skipped: (path: string, reason: string) => void): string | undefined {
  let dir = start;
  for (let level = 0; level < MAX_LEVELS; level++) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(dir, name);
      if (!isFile(candidate)) continue;
      const reason = distrust(candidate);
      if (!reason) return candidate;
      skipped(candidate, reason);
    }
    const parent = dirname(dir);
    if (dir === limit || parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/**
 * Why a config file cannot be trusted, judged as OpenSSH's StrictModes judges
 * authorized_keys: the file must belong to the user or root and be writable by
 * no one else, and no directory above it may let anyone else replace it (a
 * directory others can write is fine only with the sticky bit, and then only
 * for a file the user owns: a file another user left in /tmp is theirs).
 * Undefined when it can be trusted.
 *
 * On Windows there are no uids or mode bits to judge (process.getuid does not
 * exist), so the check is skipped there.
 */
function distrust(path: string): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid === undefined) return undefined;
  let file: Stats;
  try {
    file = statSync(path);
  } catch {
    return 'cannot be read';
  }
  if (file.uid !== uid && file.uid !== 0) return `it is owned by another user (uid ${file.uid})`;
  if (othersCanWrite(file)) return 'other users can write to it';
  let dir = dirname(path);
  for (let level = 0; level < MAX_LEVELS; level++) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch {
      return `its directory ${escapeControl(dir)} cannot be read`;
    }
    if (st.uid !== uid && st.uid !== 0) return `its directory ${escapeControl(dir)} is owned by another user (uid ${st.uid})`;
    if (othersCanWrite(st)) {
      if (!(st.mode & 0o1000)) return `other users can write to its directory ${escapeControl(dir)}`;
      if (level === 0 && file.uid !== uid) return `it is not yours and sits in a directory anyone can write to (${escapeControl(dir)})`;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** World-writable, or group-writable by a group that holds users other than the owner. */
function othersCanWrite(st: Stats): boolean {
  if (st.mode & 0o002) return true;
  return (st.mode & 0o020) !== 0 && groupHasOthers(st.gid, st.uid);
}

/**
 * Whether users other than `owner` are in group `gid`: as members listed in
 * /etc/group, or through their primary group in /etc/passwd. When the files
 * cannot be read the group is assumed to have others.
 */
function groupHasOthers(gid: number, owner: number): boolean {
  let passwd: string[][];
  let group: string[][];
  try {
    passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
    group = readFileSync('/etc/group', 'utf8').split('\n').map((line) => line.split(':'));
  } catch {
    return true;
  }
  const uidOf = new Map(passwd.filter((f) => f.length >= 4).map((f) => [f[0]!, Number(f[2])]));
  if (passwd.some((f) => f.length >= 4 && Number(f[3]) === gid && Number(f[2]) !== owner)) return true;
  const entry = group.find((f) => f.length >= 4 && Number(f[2]) === gid);
  const members = splitCommaList(entry?.[3]);
  return members.some((name) => uidOf.get(name) !== owner);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

function safeHomedir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

// Synchronous: discovery is a short sequence of stats, and fs/promises costs start-up time.
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
