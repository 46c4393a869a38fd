import { writeSync } from 'node:fs';
import { OutputError } from '../errors.js';
import { escapeControl } from '../escape.js';

/** What a command may touch of the outside world; tests and the library pass their own. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
  /** The real process's standard output: a whole result is written straight to it, with no stream to set up. */
  stdoutFd?: number;
}

export function processContext(): CliContext {
  let stdout: NodeJS.WriteStream | undefined;
  return {
    cwd: process.cwd(),
    env: process.env,
    // Made on first use: a command that prints its result with writeOut never needs the stream.
    get stdout() {
      if (!stdout) {
        stdout = process.stdout;
        stdout.on('error', onStdoutError);
      }
      return stdout;
    },
    stdoutFd: 1,
    // Also made on first use: for a pipe it loads the network stack, which a quiet success never needs.
    get stderr() {
      return process.stderr;
    },
    // Asked only by the commands that prompt: building the stdin stream (or loading tty) costs every other run start-up time.
    get stdinIsTTY() {
      return Boolean(process.stdin.isTTY);
    },
  };
}

/** The one way a message reaches stderr: `tsops: MESSAGE` on one line, control characters escaped. */
export function say(ctx: Pick<CliContext, 'stderr'>, message: string): void {
  ctx.stderr.write(`tsops: ${escapeControl(message)}\n`);
}

export function warn(ctx: Pick<CliContext, 'stderr'>, message: string): void {
  say(ctx, `warning: ${message}`);
}

/** The `--verbose` log: one escaped line per call (key identities come from files). */
export function logTo(ctx: Pick<CliContext, 'stderr'>): (line: string) => void {
  return (line) => ctx.stderr.write(`${escapeControl(line)}\n`);
}

/**
 * A reader that stops early (`tsops decrypt f | head -1`) is not a failure:
 * the rest of the output is dropped quietly, as a tool killed by SIGPIPE would.
 */
function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

const STDOUT_FAILURE_CODE = 3;
let stdoutFailure: string | undefined;
let stdoutFailureShown = false;
let commandFinished = false;

function stdoutFailureMessage(err: NodeJS.ErrnoException): string {
  return `cannot write to standard output (${err.code ?? 'error'})`;
}

// Writes without a callback fail only through this event, often after the command has returned.
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (isBrokenPipe(err) || stdoutFailure !== undefined) return;
  stdoutFailure = stdoutFailureMessage(err);
  if (commandFinished) settleStdout(process.exitCode === undefined ? 0 : Number(process.exitCode));
}

/** Forgets an earlier command's stdout state: several commands may run in one process (tests, the start-up snapshot's warm-up). */
export function beginCommand(): void {
  stdoutFailure = undefined;
  stdoutFailureShown = false;
  commandFinished = false;
}

/** The exit code once a command is done: a failed stdout turns success into exit 3, reported on one line. */
export function settleStdout(code: number): number {
  commandFinished = true;
  if (stdoutFailure === undefined || stdoutFailureShown || code !== 0) {
    stdoutFailureShown ||= stdoutFailure !== undefined;
    return code;
  }
  stdoutFailureShown = true;
  process.stderr.write(`tsops: ${stdoutFailure}\n`);
  process.exitCode = STDOUT_FAILURE_CODE;
  return STDOUT_FAILURE_CODE;
}

/**
 * Writes a command's whole result to standard output and waits until it is
 * taken. The process's own stdout gets it with plain write(2) calls (stdout is
 * synchronous on POSIX anyway); a descriptor that would block hands the rest
 * to the stream, which waits for it.
 */
export async function writeOut(ctx: CliContext, data: Uint8Array | string): Promise<void> {
  let rest = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (ctx.stdoutFd !== undefined) {
    try {
      while (rest.length) rest = rest.subarray(writeSync(ctx.stdoutFd, rest));
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (isBrokenPipe(err)) return;
      if (err.code !== 'EAGAIN') throw new OutputError(stdoutFailureMessage(err));
    }
  }
  const stream = ctx.stdout;
  return new Promise((resolve, reject) => {
    stream.write(rest, (err) => (err && !isBrokenPipe(err) ? reject(new OutputError(stdoutFailureMessage(err))) : resolve()));
  });
}
