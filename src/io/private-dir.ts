import { accessSync, constants, mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory only this user can enter (0700), on tmpfs when the system offers
 * one, for plaintext that must exist briefly (the file an editor opens). It is
 * removed on every way out of the process that Node lets us observe: normal
 * exit, uncaught errors, and SIGINT/SIGTERM/SIGHUP (after which the signal is
 * re-raised so the caller sees the usual status). Only SIGKILL escapes, and
 * tmpfs keeps even that off persistent disk.
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

export function createPrivateDir(prefix = 'tsops-', env: NodeJS.ProcessEnv = process.env): PrivateDir {
  let lastError: unknown;
  for (const base of privateBases(env)) {
    try {
      const path = mkdtempSync(join(base, prefix));
      chmodSync(path, 0o700);
      hook();
      live.add(path);
      return {
        path,
        remove() {
          rmSync(path, { recursive: true, force: true });
          live.delete(path);
        },
      };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
