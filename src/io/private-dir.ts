import { accessSync, chmodSync, constants, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputError } from '../errors.js';

/**
 * A directory only this user can enter (0700), on tmpfs when the system offers
 * one, for plaintext that must exist briefly (the file an editor opens). It is
 * removed on every way out of the process that Node lets us observe: normal
 * exit, uncaught errors, and SIGINT/SIGTERM/SIGHUP (after which the signal is
 * re-raised so the caller sees the usual status). Only SIGKILL escapes: tmpfs
 * keeps that off persistent disk, and the directory's name holds the owner's
 * pid, so the next run that makes one removes what a killed run left.
 */
export interface PrivateDir {
  readonly path: string;
  remove(): void;
}

const live = new Set<string>();
let hooked = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  // Every listener goes, so the re-raised signal ends the process with its usual status.
  for (const s of SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** Candidate bases, most private first: the user's runtime dir, shared memory, then the temp dir. */
export function privateBases(env: NodeJS.ProcessEnv = process.env): string[] {
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

/** Removes the directories with this prefix that a killed tsops left in `base`: this user's, named for a process that is gone. */
export function sweepStaleDirs(base: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const owner = name.startsWith(prefix) ? /^(\d+)-[^-]{6}$/.exec(name.slice(prefix.length)) : null;
    if (!owner) continue;
    const pid = Number(owner[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const path = join(base, name);
    try {
      const st = lstatSync(path);
      if (st.isDirectory() && (uid === undefined || st.uid === uid)) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** A new 0700 directory in `base`, named `<prefix><pid>-<random>` so a later run can tell when its owner is gone. */
export function makeOwnedDir(base: string, prefix: string): string {
  sweepStaleDirs(base, prefix);
  const path = mkdtempSync(join(base, `${prefix}${process.pid}-`));
  chmodSync(path, 0o700);
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
  hook();
  live.add(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      live.delete(path);
    },
  };
}
