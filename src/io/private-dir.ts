import { accessSync, chmodSync, constants, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputError } from '../errors.js';
import { registerCleanup } from './process-lifecycle.js';

/**
 * A directory only this user can enter (0700), on tmpfs when the system offers
 * one, for plaintext that must exist briefly (the file an editor opens). It is
 * removed on every way out of the process that Node lets us observe: normal
 * exit, uncaught errors, and every catchable signal whose default is to end
 * the process (src/io/process-lifecycle.ts removes it, then re-raises the
 * signal so the caller sees the usual status). Only SIGKILL (and SIGSTOP-then-kill) escapes: tmpfs keeps
 * that off persistent disk, and each directory holds an owner record (pid,
 * process start time, pid namespace, boot id) so a later run removes what a
 * killed run left, and nothing that may still be in use.
 */
export interface PrivateDir {
  readonly path: string;
  remove(): void;
}

/** Inside each private dir: who made it, for {@link sweepStaleDirs}. */
export const OWNER_RECORD = '.tsops-owner';

/** Candidate bases, most private first: the user's runtime dir, shared memory, then the temp dir. */
function privateBases(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const usable = (dir: string | undefined): dir is string => {
    if (!dir) return false;
    try {
      if (!statSync(dir).isDirectory()) return false;
      accessSync(dir, constants.W_OK | constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (usable(env['XDG_RUNTIME_DIR'])) out.push(env['XDG_RUNTIME_DIR']!);
  if (process.platform === 'linux' && usable('/dev/shm')) out.push('/dev/shm');
  out.push(env['TMPDIR'] && usable(env['TMPDIR']) ? env['TMPDIR'] : tmpdir());
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Owner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat, field 22): tells a reused pid apart. */
  start?: string;
  /** The pid namespace (readlink /proc/self/ns/pid): a pid means nothing outside it. */
  pidns?: string;
  /** The kernel's boot id: a record from an earlier boot has no live owner. */
  boot?: string;
}

function readOr(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

function startTime(pid: number | 'self'): string | undefined {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, 'latin1'));
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

let self: Owner | undefined;
function currentOwner(): Owner {
  self ??= {
    pid: process.pid,
    start: startTime('self'),
    pidns: readOr(() => readlinkSync('/proc/self/ns/pid')),
    boot: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'latin1')),
  };
  return self;
}

function readOwner(dir: string, uid: number | undefined): Owner | undefined {
  const path = join(dir, OWNER_RECORD);
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || st.size > 4096) return undefined;
    const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    const str = (v: unknown): boolean => v === undefined || typeof v === 'string';
    return Number.isSafeInteger(o.pid) && o.pid > 0 && str(o.start) && str(o.pidns) && str(o.boot) ? o : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that made a private dir is certainly gone. Anything
 * uncertain counts as alive, because removing a live dir loses an edit in
 * progress: no owner record; a record from another pid namespace (a
 * container sharing /tmp or /dev/shm, where the same number is another
 * process); an owner pid that runs and started when the record says.
 */
function ownerIsGone(owner: Owner | undefined): boolean {
  if (!owner) return false;
  const me = currentOwner();
  if (owner.boot && me.boot && owner.boot !== me.boot) return true;
  // On Linux a pid without its namespace is no proof (no /proc, or not readable here).
  if (owner.pidns !== me.pidns || (process.platform === 'linux' && !me.pidns)) return false;
  if (!isAlive(owner.pid)) return true;
  // The pid is in use: by the owner, or by a process that reused it.
  const start = owner.start && me.start ? startTime(owner.pid) : undefined;
  return start !== undefined && start !== owner.start;
}

/** Removes the directories with this prefix that a killed tsops left in `base`: this user's, whose owner is certainly gone. */
export function sweepStaleDirs(base: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^(\d+)-[^-]{6}$/.test(name.slice(prefix.length))) continue;
    const path = join(base, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (ownerIsGone(readOwner(path, uid))) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** A new 0700 directory in `base`, named `<prefix><pid>-<random>`, holding the record a later run checks before removing it. */
export function makeOwnedDir(base: string, prefix: string): string {
  sweepStaleDirs(base, prefix);
  const path = mkdtempSync(join(base, `${prefix}${process.pid}-`));
  chmodSync(path, 0o700);
  try {
    writeFileSync(join(path, OWNER_RECORD), JSON.stringify(currentOwner()), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    rmSync(path, { recursive: true, force: true });
    throw e;
  }
  return path;
}

/**
 * An owned 0700 directory in the most private base that takes one. The caller
 * removes it; {@link createPrivateDir} also removes it on the way out.
 */
export function makePrivateDirPath(prefix: string, env: NodeJS.ProcessEnv): string {
  let lastError: unknown;
  for (const base of privateBases(env)) {
    try {
      return makeOwnedDir(base, prefix);
    } catch (e) {
      lastError = e;
    }
  }
  throw new OutputError(`cannot create a private directory: ${(lastError as NodeJS.ErrnoException | undefined)?.code ?? 'error'}`);
}

export function createPrivateDir(prefix = 'tsops-', env: NodeJS.ProcessEnv = process.env): PrivateDir {
  const path = makePrivateDirPath(prefix, env);
  const removeDir = (): void => rmSync(path, { recursive: true, force: true });
  const unregister = registerCleanup(removeDir, { catchSignals: true });
  return {
    path,
    remove() {
      removeDir();
      unregister();
    },
  };
}
