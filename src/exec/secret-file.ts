/**
 * A path where a child can read decrypted text that is never stored on disk:
 * by default a FIFO (the text passes through a kernel pipe each time the
 * child opens it), or with `fifo: false` a 0600 file, on tmpfs where the system
 * offers one. Either way it sits in a fresh 0700 directory that is removed
 * when the file is closed, and at the latest when the process exits.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, constants, linkSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputError, TsopsError } from '../errors.js';
import { makePrivateDirPath } from '../io/private-dir.js';
import { registerCleanup } from '../io/process-lifecycle.js';

export interface SecretFileOptions {
  /** Name inside the private directory: relative, no `..` (default `tmp-file`). */
  name?: string;
  /** A FIFO (default) or a regular 0600 file. */
  fifo?: boolean;
  /** Where XDG_RUNTIME_DIR and TMPDIR are read from. */
  env?: NodeJS.ProcessEnv;
  /** The account the command runs as (`--user`): every FIFO made later is given to it too. */
  owner?: FileOwner;
}

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface SecretFile {
  /** The directory holding the file (0700, private to this process's user). */
  readonly dir: string;
  /** The path the child reads. */
  readonly path: string;
  /** Stops serving, erases our copy of the text and removes the directory. */
  close(): Promise<void>;
}

const DEFAULT_SECRET_FILE_NAME = 'tmp-file';

/** A name the file may have inside its directory; throws for anything that could point outside it. */
export function checkSecretFileName(name: string): string {
  const parts = name.split('/');
  if (name === '' || isAbsolute(name) || name.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new TsopsError(`--filename must be a relative path without '.' or '..' parts (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** The directory goes at the latest when the process exits; signals keep their effect (the FIFO server needs EPIPE, not SIGPIPE). */
function removeOnExit(dir: string): () => void {
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = registerCleanup(removeDir);
  return () => {
    removeDir();
    unregister();
  };
}

/**
 * Makes `content` readable at a private path. Takes ownership of `content`:
 * it is overwritten with zeros once it has been served or the file closes.
 */
export function createSecretFile(content: Uint8Array, options: SecretFileOptions = {}): SecretFile {
  const name = checkSecretFileName(options.name ?? DEFAULT_SECRET_FILE_NAME);
  const dir = makePrivateDirPath('tsops-exec-', options.env ?? process.env);
  const forget = removeOnExit(dir);
  const path = join(dir, name);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (options.fifo === false) {
      writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
      content.fill(0);
      return { dir, path, close: async () => forget() };
    }
    makeFifo(path);
    if (options.owner) chownSync(path, options.owner.uid, options.owner.gid);
  } catch (e) {
    content.fill(0);
    forget();
    throw e;
  }
  const server = new FifoServer(path, content, options.owner);
  return {
    dir,
    path,
    async close() {
      await server.stop();
      forget();
    },
  };
}

function makeFifo(path: string): void {
  try {
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
  } catch {
    throw new OutputError('cannot create a FIFO (is mkfifo installed?); --no-fifo uses a private file instead');
  }
}

const MAX_POLL_MS = 25;
/** After this many looks with nobody reading, the looks space out to IDLE_POLL_MS: a long-running command costs next to nothing. */
const BUSY_POLLS = 80;
const IDLE_POLL_MS = 200;

/**
 * Writes the whole text to every reader that opens the path while the command
 * runs, so a program may read its config twice. A FIFO cannot tell its readers
 * apart, so each reader gets a FIFO of its own: before each look for a reader,
 * a fresh FIFO is renamed over the path, and the one that was there is opened
 * for writing through a second, hidden name. Only readers already waiting on
 * it are served from it; an open that comes later (the same program reading
 * again) reaches the fresh one, and gets the whole text too. Readers that open
 * within the same poll interval (two threads at the same instant) share one
 * copy; each still ends with end-of-file, never a hang.
 *
 * The write ends are opened non-blocking and retried while nobody reads, so no
 * thread ever waits on a FIFO: however the child behaves (never opens it,
 * removes it, leaves a reader that never reads), stopping takes at most one
 * poll interval (25 ms, 200 ms once nobody has opened it for a while).
 */
class FifoServer {
  private stopped = false;
  private readonly transfers = new Set<Promise<void>>();
  private readonly done: Promise<void>;
  private made = 0;

  constructor(private readonly path: string, private readonly content: Uint8Array, private readonly owner?: FileOwner) {
    this.done = this.serve()
      .then(() => Promise.all(this.transfers))
      .then(() => undefined)
      .finally(() => content.fill(0));
  }

  private hidden(): string {
    return join(dirname(this.path), `.tsops-fifo-${this.made++}`);
  }

  /** A FIFO under a hidden name, given to the command's account. */
  private makeSpare(): string {
    const name = this.hidden();
    makeFifo(name);
    if (this.owner) chownSync(name, this.owner.uid, this.owner.gid);
    return name;
  }

  private async serve(): Promise<void> {
    let delay = 1;
    let idle = 0;
    let current: string;
    let spare: string;
    try {
      current = this.hidden();
      linkSync(this.path, current);
      spare = this.makeSpare();
    } catch {
      return;
    }
    while (!this.stopped) {
      let fd: number;
      try {
        // The spare takes the path; `current` now has only its hidden name, and its readers are all waiting already.
        const tmp = this.hidden();
        linkSync(spare, tmp);
        renameSync(tmp, this.path);
        fd = openSync(current, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (e) {
        // ENXIO: nobody waits on it: it becomes the spare. Anything else (the directory is gone): nothing left to serve.
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO') return;
        [current, spare] = [spare, current];
        await sleep(delay);
        delay = Math.min(delay * 2, ++idle > BUSY_POLLS ? IDLE_POLL_MS : MAX_POLL_MS);
        continue;
      }
      delay = 1;
      idle = 0;
      rmSync(current, { force: true });
      current = spare;
      const transfer = this.transfer(fd).finally(() => this.transfers.delete(transfer));
      this.transfers.add(transfer);
      try {
        spare = this.makeSpare();
      } catch {
        // No fresh FIFO: the reader just served is the last one.
        return;
      }
    }
  }

  private async transfer(fd: number): Promise<void> {
    try {
      let offset = 0;
      let delay = 1;
      while (offset < this.content.length && !this.stopped) {
        try {
          offset += writeSync(fd, this.content, offset, this.content.length - offset);
          delay = 1;
        } catch (e) {
          // The pipe is full until the reader catches up; any other error (EPIPE: the reader left) ends the transfer.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
          await sleep(delay);
          delay = Math.min(delay * 2, MAX_POLL_MS);
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
