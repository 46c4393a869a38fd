/**
 * A path where a child can read decrypted text that is never stored on disk:
 * by default a FIFO (the text passes through a kernel pipe when the child
 * reads it), or with `fifo: false` a 0600 file, on tmpfs where the system
 * offers one. Either way it sits in a fresh 0700 directory that is removed
 * when the file is closed, and at the latest when the process exits.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, OutputError, TsopsError } from '../errors.js';
import { makePrivateDirPath } from '../io/private-dir.js';

export interface SecretFileOptions {
  /** Name inside the private directory: relative, no `..` (default `tmp-file`). */
  name?: string;
  /** A FIFO (default) or a regular 0600 file. */
  fifo?: boolean;
  /** Where XDG_RUNTIME_DIR and TMPDIR are read from. */
  env?: NodeJS.ProcessEnv;
}

export interface SecretFile {
  /** The directory holding the file (0700, private to this process's user). */
  readonly dir: string;
  /** The path the child reads. */
  readonly path: string;
  /** Stops serving, erases our copy of the text and removes the directory. */
  close(): Promise<void>;
}

export const DEFAULT_SECRET_FILE_NAME = 'tmp-file';

/** A name the file may have inside its directory; throws for anything that could point outside it. */
export function checkSecretFileName(name: string): string {
  const parts = name.split('/');
  if (name === '' || isAbsolute(name) || name.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new TsopsError(`--filename must be a relative path without '.' or '..' parts (got ${JSON.stringify(name)})`, ExitCode.Generic);
  }
  return name;
}

const live = new Set<string>();
let exitHooked = false;

function removeOnExit(dir: string): void {
  live.add(dir);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true });
  });
}

function forget(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/**
 * Makes `content` readable at a private path. Takes ownership of `content`:
 * it is overwritten with zeros once it has been served or the file closes.
 */
export function createSecretFile(content: Uint8Array, options: SecretFileOptions = {}): SecretFile {
  const name = checkSecretFileName(options.name ?? DEFAULT_SECRET_FILE_NAME);
  const dir = makePrivateDirPath('tsops-exec-', options.env ?? process.env);
  removeOnExit(dir);
  const path = join(dir, name);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (options.fifo === false) {
      writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
      content.fill(0);
      return { dir, path, close: async () => forget(dir) };
    }
    makeFifo(path);
  } catch (e) {
    content.fill(0);
    forget(dir);
    throw e;
  }
  const server = new FifoServer(path, content);
  return {
    dir,
    path,
    async close() {
      await server.stop();
      forget(dir);
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

/**
 * Writes the text into the FIFO once, when a reader opens it. The write end is
 * opened non-blocking and retried while nobody reads, so no thread ever waits
 * on the FIFO: however the child behaves (never opens it, removes it, leaves a
 * reader that never reads), stopping takes at most one poll interval.
 */
class FifoServer {
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly path: string, private readonly content: Uint8Array) {
    this.done = this.serve().finally(() => content.fill(0));
  }

  private async serve(): Promise<void> {
    let delay = 1;
    let fd: number | undefined;
    while (fd === undefined) {
      if (this.stopped) return;
      try {
        fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (e) {
        // ENXIO: no reader yet. Anything else (the child removed the FIFO): nothing left to serve.
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO') return;
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_POLL_MS);
      }
    }
    try {
      let offset = 0;
      delay = 1;
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
